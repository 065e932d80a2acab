#!/usr/bin/env bash
# End-to-end tests of `geoflux geocode`, `reverse` and `index build` on the
# real Bruz BAL and the SCDL équipements samples, with GDAL re-reading the
# outputs. Usage: geocode.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
fails=0; checks=0
ok() { checks=$((checks+1)); if eval "$1"; then :; else fails=$((fails+1)); echo "FAIL: $2" >&2; fi; }
S=$SRC/data/samples
E=$S/equipements
PC=$S/reference/laposte-codes-postaux.csv.gz
py() { /usr/bin/python3 -c "$1"; }

# 1. index build, then geocode from it and from the address files: same bytes
"$GF" index build "$S/bal/bal_35047_v1.3.csv" --postcodes "$PC" -o "$OUT/bruz.idx" -q; rc=$?
ok '[ $rc -eq 0 ] && [ -s "$OUT/bruz.idx" ]' "index build"
"$GF" geocode --index "$OUT/bruz.idx" "$E/equipements-35047.csv" -o "$OUT/eq.csv" -q; rc=$?
ok '[ $rc -eq 0 ]' "geocode with --index"
"$GF" geocode --addresses "$S/bal/bal_35047_v1.3.csv" --postcodes "$PC" "$E/equipements-35047.csv" -o "$OUT/eq2.csv" -q -j 1
ok 'cmp -s "$OUT/eq.csv" "$OUT/eq2.csv"' "--index and --addresses give the same bytes (and -j 1 = all cores)"
"$GF" geocode --index "$OUT/bruz.idx" "$E/equipements-35047.csv" -o "$OUT/eq3.csv" -q -j 2
ok 'cmp -s "$OUT/eq.csv" "$OUT/eq3.csv"' "-j 2 gives the same bytes"

# 2. columns: the input's, then the Géoplateforme's result columns in its
# order (gpf-geocodeur's address index, search), then geoflux's own checks of
# the input's coordinates
gpf="result_index,latitude,longitude,result_label,result_score,result_score_next,result_type,result_id,result_housenumber,result_name,result_street,result_postcode,result_city,result_context,result_citycode,result_oldcitycode,result_oldcity,result_district,result_importance,result_x,result_y,result_status"
gpf_rev="result_index,result_latitude,result_longitude,result_distance,result_label,result_type,result_id,result_housenumber,result_name,result_street,result_postcode,result_city,result_context,result_citycode,result_oldcitycode,result_oldcity,result_district,result_importance,result_x,result_y,result_status"
ban="latitude,longitude,result_label,result_score,result_score_next,result_type,result_id,result_housenumber,result_name,result_street,result_postcode,result_city,result_context,result_citycode,result_oldcitycode,result_oldcity,result_district,result_status"
incols="COLL_NOM,COLL_SIRET,EQUIP_UID,EQUIP_THEME,EQUIP_CODE,EQUIP_TYPE,EQUIP_NOM,ADR_NUMERO,ADR_NOMVOIE,ADR_CODEPOSTAL,ADR_COMMUNE,ADR_CLE_INTEROP,ERP_ID,ERP_TYPE,ERP_CATEGORIE,EQUIP_LAT,EQUIP_LONG,EQUIP_OUVERTURE,EQUIP_TEL,EQUIP_EMAIL,EQUIP_WEB"
want="$incols,$gpf,result_distance,result_far,errors,warnings"
ok '[ "$(head -1 "$OUT/eq.csv")" = "$want" ]' "CSV header, Géoplateforme order: $(head -1 "$OUT/eq.csv")"
"$GF" geocode --index "$OUT/bruz.idx" "$E/equipements-35047.csv" -o "$OUT/eq-ban.csv" -q --columns-style api-adresse
ok '[ "$(head -1 "$OUT/eq-ban.csv")" = "$incols,$ban,result_distance,result_far,errors,warnings" ]' "--columns-style api-adresse: the older order"
"$GF" geocode --index "$OUT/bruz.idx" "$E/equipements-35047.csv" -o "$OUT/eq-rc.csv" -q --result-columns "result_status, result_x,result_y,result_label,result_distance"
ok '[ "$(head -1 "$OUT/eq-rc.csv")" = "$incols,result_status,result_x,result_y,result_label,result_distance,errors,warnings" ]' "--result-columns: those, in that order"
ok 'grep -q "^Commune de Bruz,.*,ok,346992.34,6779784.64,62 Avenue du Général de Gaulle 35170 Bruz,0,," "$OUT/eq-rc.csv"' "result_x/result_y in Lambert-93, as the service gives them"
for bad in result_nope result_latitude "result_label,result_label" ""; do
  "$GF" geocode --index "$OUT/bruz.idx" "$E/equipements-35047.csv" -o "$OUT/x.csv" -q --result-columns "$bad" 2>"$OUT/rc.err"; rc=$?
  ok '[ $rc -eq 2 ] && [ ! -e "$OUT/x.csv" ] && grep -q "result-columns" "$OUT/rc.err"' "--result-columns '$bad' refused: $(head -1 "$OUT/rc.err")"
done
"$GF" geocode --index "$OUT/bruz.idx" "$E/equipements-35047.csv" -o "$OUT/x.csv" -q --columns-style ban 2>/dev/null; rc=$?
ok '[ $rc -eq 2 ]' "unknown --columns-style refused"
rows() { py "
import csv
for r in csv.DictReader(open('$1', encoding='utf-8')): print('|'.join(r[k] for k in '$2'.split(',')))"; }
ok '[ "$(rows "$OUT/eq.csv" "EQUIP_NOM,result_index,result_context,result_importance" | head -1)" = "Hôtel de ville|address|35, Ille-et-Vilaine, Bretagne|0.7232" ]' "result_index, result_context, result_importance filled"
# communes déléguées: the address files' commune_deleguee_* columns become
# result_oldcitycode / result_oldcity (written here: no sample has them)
py "
import csv, io
src=open('$S/bal/bal_simple_v1.3.csv', encoding='utf-8-sig').read()
rd=list(csv.reader(io.StringIO(src), delimiter=';'))
h=rd[0]; a=h.index('commune_deleguee_insee'); b=h.index('commune_deleguee_nom'); v=h.index('voie_nom')
first=rd[1][v]
w=csv.writer(open('$OUT/deleg.csv','w',encoding='utf-8',newline=''), delimiter=';')
w.writerow(h)
for r in rd[1:]:
    if r[v]==first: r[a]='35999'; r[b]='Ancienne Commune'
    w.writerow(r)
open('$OUT/deleg.q','w').write(first)
"
"$GF" index build "$OUT/deleg.csv" -o "$OUT/deleg.idx" -q
printf 'adresse,citycode\n"%s",%s\n' "$(cat "$OUT/deleg.q")" "$(sed -n 2p "$OUT/deleg.csv" | cut -d';' -f3 | cut -c1-5)" > "$OUT/deleg-q.csv"
"$GF" geocode --index "$OUT/deleg.idx" "$OUT/deleg-q.csv" -o "$OUT/deleg-out.csv" -q
ok '[ "$(rows "$OUT/deleg-out.csv" "result_oldcitycode,result_oldcity,result_status")" = "35999|Ancienne Commune|ok" ]' "commune déléguée in result_oldcitycode/result_oldcity ($(rows "$OUT/deleg-out.csv" "result_street,result_oldcitycode,result_oldcity,result_status"))"
# the commune déléguée instead of the commune, or after the street; the
# lieu-dit complement instead of the street, or after it
printf 'adresse,city\n"%s",Ancienne Commune\n"%s Ancienne Commune",Corps-Nuds\n' "$(cat "$OUT/deleg.q")" "$(cat "$OUT/deleg.q")" > "$OUT/deleg-q2.csv"
"$GF" geocode --index "$OUT/deleg.idx" "$OUT/deleg-q2.csv" -o "$OUT/deleg-out2.csv" -q
ok '[ "$(rows "$OUT/deleg-out2.csv" "result_type,result_oldcitycode,result_oldcity,result_status" | sort -u)" = "street|35999|Ancienne Commune|ok" ]' "the commune déléguée names the commune, alone or after the street ($(rows "$OUT/deleg-out2.csv" "result_label,result_oldcity" | tr "\n" " "))"
printf 'adresse,postcode\n71 la Bobinais,35170\n71 Avenue Alphonse Legault la Bobinais,35170\n2 bis Haye de Pan,35170\n' > "$OUT/ld.csv"
"$GF" geocode --index "$OUT/bruz.idx" "$OUT/ld.csv" -o "$OUT/ld.out.csv" -q
ok '[ "$(rows "$OUT/ld.out.csv" "result_id,result_street,result_score" | tr "\n" " ")" = "35047_0010_00071|Avenue Alphonse Legault|1 35047_0010_00071|Avenue Alphonse Legault|1 35047_0149_00002_bis|Rue de la Chaussairie|1 " ]' "a lieu-dit complement finds the address of the street that lies there ($(rows "$OUT/ld.out.csv" "result_label,result_score" | tr "\n" " "))"
# Paris, Lyon, Marseille are addressed by arrondissement (BAN code_insee
# 751xx, 6938x, 132xx): "Paris", 75056 or a 75xxx postcode reach them, with
# result_city the city and result_district the arrondissement
py "
import csv
h='id;nom_voie;numero;rep;code_insee;code_post;nom_ld;lon;lat;nom_commune'.split(';')
w=csv.writer(open('$OUT/plm.csv','w',encoding='utf-8',newline=''), delimiter=';')
w.writerow(h)
for n in (1, 3, 5): w.writerow(['a%d' % n, 'Rue de Vaugirard', n, '', '75115', '75015', '', 2.30 + n * 1e-4, 48.84, 'Paris 15e Arrondissement'])
for n in (102, 104): w.writerow(['b%d' % n, 'Rue de Vaugirard', n, '', '75106', '75006', '', 2.33 + n * 1e-6, 48.848, 'Paris 6e Arrondissement'])
for n in (1, 2): w.writerow(['c%d' % n, 'Rue de Rivoli', n, '', '75104', '75004', '', 2.355 + n * 1e-4, 48.856, 'Paris 4e Arrondissement'])
for n in (7, 9): w.writerow(['d%d' % n, 'Cours Lafayette', n, '', '69383', '69003', '', 4.85 + n * 1e-4, 45.763, 'Lyon 3e Arrondissement'])
"
printf 'adresse,postcode,city,citycode\n3 rue de vaugirard,,Paris,\n3 rue de vaugirard,75015,Paris,\n104 rue de vaugirard,,,75056\n1 rue de rivoli paris,,,\n9 cours lafayette,,Lyon,\n,,Paris,\n' > "$OUT/plm-q.csv"
"$GF" geocode --addresses "$OUT/plm.csv" "$OUT/plm-q.csv" -o "$OUT/plm-out.csv" -q
rows "$OUT/plm-out.csv" "result_label,result_type,result_city,result_citycode,result_district,result_status" > "$OUT/plm.txt"
ok '[ "$(cat "$OUT/plm.txt" | tr "\n" " ")" = "3 Rue de Vaugirard 75015 Paris|housenumber|Paris|75115|Paris 15e Arrondissement|ok 3 Rue de Vaugirard 75015 Paris|housenumber|Paris|75115|Paris 15e Arrondissement|ok 104 Rue de Vaugirard 75006 Paris|housenumber|Paris|75106|Paris 6e Arrondissement|ok 1 Rue de Rivoli 75004 Paris|housenumber|Paris|75104|Paris 4e Arrondissement|ok 9 Cours Lafayette 69003 Lyon|housenumber|Lyon|69383|Lyon 3e Arrondissement|ok Paris|municipality|Paris|75056||ok " ]' "Paris, Lyon by arrondissement: city, citycode, district ($(tr "\n" " " < "$OUT/plm.txt"))"
# a position bias (--lat/--lon, as the service's lat/lon columns): one
# street name in two communes of one postcode (the second written here, 7 km
# east of the first) resolves to the one near the row's position; without
# --lat/--lon (or with the coordinate columns only found by name) nothing
# changes; a row naming no commune looks in the communes around its position
# (and, without a position, for the street's whole name anywhere)
py "
import csv, gzip
src=list(csv.reader(gzip.open('$S/ban/adresses-54.csv.gz','rt',encoding='utf-8'), delimiter=';'))
h=src[0]; ix={k: i for i, k in enumerate(h)}
w=csv.writer(open('$OUT/twins.csv','w',encoding='utf-8',newline=''), delimiter=';')
w.writerow(h)
for r in src[1:]:
    if r[ix['code_insee']] != '54084': continue
    w.writerow(r)
    if r[ix['nom_voie']] == 'allée des acacias':
        t=list(r); t[ix['code_insee']]='54001'; t[ix['nom_commune']]='Jumelle'; t[ix['id']]='X'+t[ix['id']]
        t[ix['lon']]='%.7f' % (float(t[ix['lon']]) + 0.1)
        w.writerow(t)
"
printf 'id,adresse,postcode,lat,lon\nnone,5 allée des acacias,54111,,\nnear_twin,5 allée des acacias,54111,49.3247,5.9346\nnear_orig,5 allée des acacias,54111,49.3247,5.8346\nfar_east,5 allée des acacias,54111,49.3247,6.5\nno_commune,5 allee des acacias,,49.3247,5.9346\n' > "$OUT/bias-q.csv"
"$GF" index build "$OUT/twins.csv" -o "$OUT/twins.idx" -q
brc="id,result_citycode,result_score,result_score_next,result_status"
"$GF" geocode --index "$OUT/twins.idx" "$OUT/bias-q.csv" -o "$OUT/bias0.csv" -q
"$GF" geocode --index "$OUT/twins.idx" "$OUT/bias-q.csv" -o "$OUT/bias1.csv" -q --lat lat --lon lon; rc=$?
ok '[ "$(rows "$OUT/bias0.csv" "$brc" | tr "\n" " ")" = "none|54084|0.95|0.95|ok near_twin|54084|0.95|0.95|ok near_orig|54084|0.95|0.95|ok far_east|54084|0.95|0.95|ok no_commune|54084|0.9|0.9|ok " ]' "no bias: the first of two equal names, whatever the row's coordinates; no commune at all: the name anywhere, the larger commune's first, score_next as high ($(rows "$OUT/bias0.csv" "$brc" | tr "\n" " "))"
ok '[ $rc -eq 0 ] && [ "$(rows "$OUT/bias1.csv" "$brc" | tr "\n" " ")" = "none|54084|0.95|0.95|ok near_twin|54001|0.95|0.95|ok near_orig|54084|0.95|0.95|ok far_east|54001|0.95|0.95|ok no_commune|54001|0.9|0.9|ok " ]' "--lat/--lon bias: the nearer of two equal names; no commune: the communes around ($(rows "$OUT/bias1.csv" "$brc" | tr "\n" " "))"
"$GF" geocode --index "$OUT/twins.idx" "$OUT/bias-q.csv" -o "$OUT/x.csv" -q --lat lat 2>/dev/null; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/x.csv" ]' "--lat without --lon refused"
"$GF" geocode --index "$OUT/twins.idx" "$OUT/bias-q.csv" -o "$OUT/x.csv" -q --lat nope --lon lon 2>"$OUT/nope.err"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/x.csv" ] && grep -q "nope" "$OUT/nope.err"' "--lat naming no column refused: $(head -1 "$OUT/nope.err")"
# GDAL's CSV reader sees 10 rows and the quoted opening hours intact
n=$(ogrinfo -ro -al -so "$OUT/eq.csv" 2>/dev/null | sed -n 's/^Feature Count: //p')
ok '[ "$n" = 10 ]' "GDAL reads 10 rows (got $n)"
ok 'ogrinfo -ro -al "$OUT/eq.csv" 2>/dev/null | grep -q "EQUIP_OUVERTURE (String) = Mo-Fr 08:30-12:00,13:30-17:30"' "RFC 4180 quoting read back by GDAL"
rows "$OUT/eq.csv" "EQUIP_NOM,result_type,result_id,result_status,result_far,result_score" > "$OUT/eq.txt"
ok 'grep -q "^Hôtel de ville|housenumber|35047_0380_00062|ok|false|1$" "$OUT/eq.txt"' "exact address, own coordinates agree"
ok 'grep -q "^Ecole maternelle des Acacias|housenumber|35047_0001_00001|ok||1$" "$OUT/eq.txt"' "R. des Acacias"
ok 'grep -q "^Ecole Jules Tricault|housenumber|35047_0480_00010|ok|false|" "$OUT/eq.txt"' "AV JULES TRICAULT / BRUZ"
ok 'grep -q "^Salle de Boissousel|housenumber|35047_0060_00022|ok||" "$OUT/eq.txt"' "no postcode: commune by name"
ok 'grep -q "^Médiathèque|housenumber|35047_0166_00009|ok|true|" "$OUT/eq.txt"' "lost accent; own coordinates 1.3 km away flagged"
ok 'grep -q "^Maison du Vert Buisson|housenumber|35047_0787_00012|ok||" "$OUT/eq.txt"' "Pl. abbreviation"
ok 'grep -q "^Cimetière du Manoir|" "$OUT/eq.txt" && grep "^Cimetière du Manoir|" "$OUT/eq.txt" | grep -Eq "\|(locality|street)\|35047_b291\|ok\|"' "99999 = no number: the place, its id the street's (cle_interop up to the number)"
f=$(py "
import csv
r=[r for r in csv.DictReader(open('$OUT/eq.csv', encoding='utf-8')) if r['EQUIP_NOM']=='Médiathèque'][0]
print(r['result_distance'])")
ok 'py "import sys; sys.exit(0 if 1200 < float(\"$f\") < 1500 else 1)"' "distance to own coordinates reported ($f m)"

# 3. SCDL rules are reported, never a reason to withhold a row: every row
# comes out, geocoded, in input order, with its codes in `errors`
"$GF" geocode --index "$OUT/bruz.idx" "$E/equipements-35047-errors.csv" -o "$OUT/err.csv" -q --summary json > "$OUT/err.json"; rc=$?
ok '[ $rc -eq 0 ]' "geocode a file with errors"
ok 'py "import json; d=json.load(open(\"$OUT/err.json\")); exit(0 if d[\"read\"]==7 and d[\"written\"]==7 and d[\"rejected\"]==0 and d[\"schema_defects\"]==6 and d[\"municipality\"]==1 and d[\"ok\"]==7 else 1)"' "7 of 7 rows written, 6 with schema defects, none rejected; no street at all: the commune"
ok '[ ! -e "$OUT/err.csv.rejects.csv" ]' "no rejects file when no record was unparseable"
for code in coll_siret.checksum equip_uid.pattern equip_theme.enum erp_categorie.range equip_lat.decimal_comma adr_numero.required; do
  ok 'grep -q "$code" "$OUT/err.csv"' "schema defect $code reported in the errors column"
done
ok 'grep -q "equip_theme.enum_fuzzy" "$OUT/err.csv"' "theme in the wrong case: a warning"
ok 'py "
import csv
a=[r[\"EQUIP_UID\"] for r in csv.DictReader(open(\"$E/equipements-35047-errors.csv\", encoding=\"utf-8\"), delimiter=\";\" if \";\" in open(\"$E/equipements-35047-errors.csv\", encoding=\"utf-8\").readline() else \",\")]
b=[r[\"EQUIP_UID\"] for r in csv.DictReader(open(\"$OUT/err.csv\", encoding=\"utf-8\"))]
assert a==b, (a, b)
"' "rows in input order"
"$GF" geocode --index "$OUT/bruz.idx" "$E/equipements-35047-errors.csv" -o "$OUT/errk.csv" -q --keep-invalid 2>"$OUT/keep.err"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/errk.csv" ] && grep -q "keep-invalid does not apply" "$OUT/keep.err"' "--keep-invalid refused, not ignored: $(head -1 "$OUT/keep.err")"
# an SCDL file of 500 rows whose SIRET fails Luhn (and is not La Poste's): all 500 out, geocoded
py "
import csv
src=list(csv.reader(open('$E/equipements-35047.csv', encoding='utf-8')))
h=src[0]; rows=src[1:]
i=h.index('COLL_SIRET'); u=h.index('EQUIP_UID')
w=csv.writer(open('$OUT/siret.csv','w',encoding='utf-8',newline=''))
w.writerow(h)
for k in range(500):
    r=list(rows[k % len(rows)]); r[i]='21350047500010'; r[u]=r[u][:15]+'%03d' % (k % 1000); w.writerow(r)
"
"$GF" geocode --index "$OUT/bruz.idx" "$OUT/siret.csv" -o "$OUT/siret.out.csv" --summary json > "$OUT/siret.json" 2>"$OUT/siret.err"; rc=$?
ok '[ $rc -eq 0 ] && py "import json; d=json.load(open(\"$OUT/siret.json\")); exit(0 if d[\"read\"]==500 and d[\"written\"]==500 and d[\"rejected\"]==0 and d[\"schema_defects\"]==500 and d[\"ok\"]==500 else 1)"' "SIRET failing Luhn: 500 of 500 rows written and geocoded ($(cat "$OUT/siret.json"))"
ok '[ "$(grep -c "coll_siret.checksum" "$OUT/siret.out.csv")" = 500 ] && [ "$(grep -c ",ok," "$OUT/siret.out.csv")" -ge 450 ]' "every row carries the defect and a result"
ok 'grep -q "500 rows break a schema rule" "$OUT/siret.err" && grep -q "500 ok" "$OUT/siret.err"' "the summary says how many of each status and how many defects"
# an unparseable record is the only kind of row that goes to rejects
printf 'adresse,postcode\n62 avenue du general de gaulle,35170\n"unterminated,35170\n' > "$OUT/bad.csv"
"$GF" geocode --index "$OUT/bruz.idx" "$OUT/bad.csv" -o "$OUT/bad.out.csv" -q --summary json > "$OUT/bad.json"
ok 'py "import json; d=json.load(open(\"$OUT/bad.json\")); exit(0 if d[\"read\"]==2 and d[\"written\"]==1 and d[\"rejected\"]==1 else 1)"' "an unparseable record goes to rejects ($(cat "$OUT/bad.json"))"

# 4. the older template: EQUIP_X/EQUIP_Y in Lambert-93 checked
"$GF" geocode --index "$OUT/bruz.idx" "$E/equipements-35047-ancien-modele.csv" -o "$OUT/old.geojson" -q; rc=$?
ok '[ $rc -eq 0 ]' "older template"
n=$(ogrinfo -ro -al -so "$OUT/old.geojson" 2>/dev/null | sed -n 's/^Feature Count: //p')
ok '[ "$n" = 3 ]' "GDAL reads the GeoJSON (got $n)"
ok 'py "
import json; d=json.load(open(\"$OUT/old.geojson\"))
p=[f[\"properties\"] for f in d[\"features\"]]
assert p[0][\"result_far\"] is True and 200 < p[0][\"result_distance\"] < 300
assert \"result_distance\" not in p[1] and p[1][\"result_id\"] == \"35047_0001_00001\"
"' "Lambert-93 EQUIP_X/EQUIP_Y compared, 245 m flagged"
"$GF" geocode --index "$OUT/bruz.idx" "$E/equipements-35047-ancien-modele.csv" -o "$OUT/old-l93.geojson" -q --t-srs EPSG:2154
ok 'grep -q "\"coordinates\":\[346992.3[0-9]*,6779784.[4-6]" "$OUT/old-l93.geojson"' "output in Lambert-93 (--t-srs)"

"$GF" geocode --index "$OUT/bruz.idx" "$E/equipements-35047.csv" -o "$OUT/eq.gpkg" -q; rc=$?
lay=$(ogrinfo -ro -q "$OUT/eq.gpkg" 2>/dev/null | awk 'NR==1{print $2}')
n=$(ogrinfo -ro -al -so "$OUT/eq.gpkg" "$lay" -where "result_type = 'housenumber'" 2>/dev/null | sed -n 's/^Feature Count: //p')
ok '[ $rc -eq 0 ] && [ "$n" = 9 ]' "GeoPackage output read by GDAL: 9 housenumber results (got $n)"

# 5. a plain CSV (the national geocoder's example), La Poste communes
"$GF" geocode --index "$OUT/bruz.idx" "$S/geocoding/search.csv" --columns adresse --postcode postcode -o "$OUT/search.csv" -q; rc=$?
ok '[ $rc -eq 0 ]' "plain CSV"
ok '[ "$(grep -c ",municipality," "$OUT/search.csv")" = 4 ]' "communes known from La Poste only: municipality results"
ok 'rows "$OUT/search.csv" "result_postcode,result_city,result_citycode,result_status" | grep -q "^54600|VILLERS LES NANCY|54578|ok$"' "postcode + city resolved"
printf 'adresse,postcode\n,\n12 rue inconnue,99999\n' > "$OUT/odd.csv"
"$GF" geocode --index "$OUT/bruz.idx" "$OUT/odd.csv" -o "$OUT/odd.out.csv" -q
ok 'grep -q ",skipped$" "$OUT/odd.out.csv" && grep -q ",not-found$" "$OUT/odd.out.csv"' "skipped and not-found statuses"

# 6. reverse: the geocoded points come back to the same addresses
# (the geocoded file has more columns than a table may have before its results: keep a few)
py "
import csv
w=csv.writer(open('$OUT/eq-few.csv','w',encoding='utf-8',newline=''))
w.writerow(['EQUIP_NOM','latitude','longitude','result_type','result_id'])
for r in csv.DictReader(open('$OUT/eq.csv', encoding='utf-8')): w.writerow([r[k] for k in ['EQUIP_NOM','latitude','longitude','result_type','result_id']])
"
"$GF" reverse --index "$OUT/bruz.idx" "$OUT/eq-few.csv" --lat latitude --lon longitude -o "$OUT/rev.csv" -q; rc=$?
ok '[ $rc -eq 0 ]' "reverse"
ok 'py "
import csv
rows=list(csv.DictReader(open(\"$OUT/rev.csv\", encoding=\"utf-8\")))
assert len(rows)==10
for r in rows:
    if r[\"result_type_input\"]==\"housenumber\":
        assert r[\"result_id\"]==r[\"result_id_input\"] and float(r[\"result_distance\"])<0.01, r
"' "reverse of housenumber results: same cle_interop, 0 m"

# a geocoded file reverse-geocoded whole (the README's example): no column twice
"$GF" reverse --index "$OUT/bruz.idx" "$OUT/eq.csv" --lat latitude --lon longitude -o "$OUT/rev-all.csv" -q; rc=$?
ok '[ $rc -eq 0 ] && [ -z "$(head -1 "$OUT/rev-all.csv" | tr , "\n" | sort | uniq -d)" ] && [ "$(($(wc -l < "$OUT/rev-all.csv") - 1))" = 10 ]' "reverse of a geocoded file: 10 rows, no duplicate column ($(head -1 "$OUT/rev-all.csv" | tr , "\n" | sort | uniq -d | tr "\n" " "))"
# reverse has a distance limit (default 500 m): a point 585 km from any
# address of the base is not-found, not ok
printf 'id,lat,lon\nnear,48.0230962,-1.7382079\nfar,48.58,7.75\nnone,,\n' > "$OUT/pts.csv"
"$GF" reverse --index "$OUT/bruz.idx" "$OUT/pts.csv" -o "$OUT/pts.out.csv" -q; rc=$?
ok '[ "$(head -1 "$OUT/pts.out.csv")" = "id,lat,lon,$gpf_rev" ]' "reverse header, Géoplateforme order: $(head -1 "$OUT/pts.out.csv")"
rows "$OUT/pts.out.csv" "id,result_status,result_distance,result_id" > "$OUT/pts.txt"
ok '[ $rc -eq 0 ] && grep -q "^near|ok|0|35047_0380_00062$" "$OUT/pts.txt" && grep -q "^far|not-found||$" "$OUT/pts.txt" && grep -q "^none|skipped||$" "$OUT/pts.txt"' "reverse: ok within 500 m, not-found 585 km away, skipped without a point ($(tr '\n' ' ' < "$OUT/pts.txt"))"
"$GF" reverse --index "$OUT/bruz.idx" "$OUT/pts.csv" -o "$OUT/pts2.csv" -q --max-distance 1000000
d=$(rows "$OUT/pts2.csv" "id,result_status,result_distance" | sed -n 's/^far|ok|//p')
ok 'py "import sys; sys.exit(0 if 600000 < float(\"${d:-0}\") < 800000 else 1)"' "--max-distance 1000000: found, result_distance in metres ($d)"
for bad in abc 0 -5 1e999 12m nan; do
  "$GF" reverse --index "$OUT/bruz.idx" "$OUT/pts.csv" -o "$OUT/x.csv" -q --max-distance "$bad" 2>/dev/null; rc=$?
  ok '[ $rc -eq 2 ] && [ ! -e "$OUT/x.csv" ]' "--max-distance $bad refused"
done
"$GF" geocode --index "$OUT/bruz.idx" "$OUT/pts.csv" -o "$OUT/x.csv" -q --max-distance 10 2>/dev/null; rc=$?
ok '[ $rc -eq 2 ]' "--max-distance is refused by geocode, not ignored"
"$GF" reverse --index "$OUT/bruz.idx" "$OUT/pts.csv" -o "$OUT/x.csv" -q --columns adresse 2>/dev/null; rc=$?
ok '[ $rc -eq 2 ]' "--columns is refused by reverse, not ignored"

# 7. the native CSV writer on the address schema (convert), atomic, to standard output too
"$GF" convert "$S/bal/test-valid.csv" -o "$OUT/tv.csv" -q; rc=$?
n=$(ogrinfo -ro -al -so "$OUT/tv.csv" 2>/dev/null | sed -n 's/^Feature Count: //p')
ok '[ $rc -eq 0 ] && [ "$n" = 145 ]' "convert -> .csv read by GDAL (145 rows, got $n)"
ok '! ls "$OUT"/.tv.csv.tmp-* >/dev/null 2>&1' "no temporary file left"
"$GF" convert "$S/bal/test-valid.csv" -f csv -o - -q > "$OUT/tv-stdout.csv"
ok 'cmp -s "$OUT/tv.csv" "$OUT/tv-stdout.csv"' "-f csv -o - writes the same bytes"

# 8. usage errors
"$GF" geocode "$E/equipements-35047.csv" -o "$OUT/x.csv" 2>/dev/null; rc=$?; ok '[ $rc -eq 2 ]' "no address base: exit 2"
"$GF" geocode --index "$OUT/bruz.idx" -o "$OUT/x.csv" 2>/dev/null; rc=$?; ok '[ $rc -eq 2 ]' "no input: exit 2"
"$GF" geocode --index "$PC" "$E/equipements-35047.csv" -o "$OUT/x.csv" 2>"$OUT/err.txt"; rc=$?
ok '[ $rc -ne 0 ] && grep -q "not a geoflux index" "$OUT/err.txt"' "not an index file"
"$GF" geocode --index "$OUT/bruz.idx" "$E/equipements-35047.csv" --columns NOPE -o "$OUT/x.csv" 2>/dev/null; rc=$?; ok '[ $rc -eq 2 ] && [ ! -e "$OUT/x.csv" ]' "unknown --columns: exit 2, no output"
"$GF" index build -o "$OUT/x.idx" 2>/dev/null; rc=$?; ok '[ $rc -eq 2 ]' "index build without input"

# 9. an output that is an input is refused before any work, the input intact
cp "$E/equipements-35047.csv" "$OUT/in.csv"; cp "$S/bal/bal_35047_v1.3.csv" "$OUT/bal.csv"
h0=$(md5sum < "$OUT/in.csv"); b0=$(md5sum < "$OUT/bal.csv")
"$GF" geocode --index "$OUT/bruz.idx" "$OUT/in.csv" -o "$OUT/./in.csv" -q 2>"$OUT/same.err"; rc=$?
ok '[ $rc -eq 2 ] && [ "$(md5sum < "$OUT/in.csv")" = "$h0" ] && grep -q "in.csv" "$OUT/same.err"' "geocode -o INPUT refused: $(head -1 "$OUT/same.err")"
"$GF" geocode --addresses "$OUT/bal.csv" "$OUT/in.csv" -o "$OUT/x2.csv" --rejects "$OUT/bal.csv" -q 2>/dev/null; rc=$?
ok '[ $rc -eq 2 ] && [ "$(md5sum < "$OUT/bal.csv")" = "$b0" ] && [ ! -e "$OUT/x2.csv" ]' "geocode --rejects equal to an --addresses file refused"
"$GF" reverse --index "$OUT/bruz.idx" "$OUT/pts.csv" -o "$OUT/bruz.idx" -q 2>/dev/null; rc=$?
ok '[ $rc -eq 2 ] && "$GF" reverse --index "$OUT/bruz.idx" "$OUT/pts.csv" -o "$OUT/x3.csv" -q' "reverse -o INDEX refused, the index intact"
"$GF" index build "$OUT/bal.csv" -o "$OUT/bal.csv" -q 2>/dev/null; rc=$?
ok '[ $rc -eq 2 ] && [ "$(md5sum < "$OUT/bal.csv")" = "$b0" ]' "index build -o INPUT refused"

# a street's whole name with no commune: every homonym is looked at, not
# the first 256 in name order (autocompletion's bound per keystroke): the
# Rue de la Gare of 400 communes of one address each, and of Cazac (31593,
# the last in order) with 29; the larger commune's answers, score_next as high
/usr/bin/python3 - "$S/boundaries/communes-31-haute-garonne.geojson" "$OUT/gare.csv" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
codes = sorted((f["properties"]["code"], f["properties"]["nom"]) for f in d["features"])
big = codes[-1]
with open(sys.argv[2], "w", encoding="utf-8") as w:
    w.write("id;nom_voie;id_fantoir;numero;rep;code_insee;code_post;alias;nom_ld;nom_afnor;libelle_acheminement;x;y;lon;lat;nom_commune\n")
    for k, (c, n) in enumerate(codes[:400] + [big]):
        for num in (range(1, 30) if (c, n) == big else [1]):
            w.write("%s_0010_%05d;Rue de la Gare;0010;%d;;%s;31000;;;RUE DE LA GARE;X;;;%.6f;43.5;%s\n" % (c, num, num, c, 1.0 + k * 0.001, n))
PY
printf 'adresse\n1 rue de la gare\nrue de la gare\n' > "$OUT/gare-q.csv"
"$GF" geocode --addresses "$OUT/gare.csv" "$OUT/gare-q.csv" -o "$OUT/gare-out.csv" -q --columns adresse
ok '[ "$(rows "$OUT/gare-out.csv" "result_id,result_citycode,result_score,result_score_next" | tr "\n" " ")" = "31593_0010_00001|31593|0.9|0.9 31593_0010|31593|0.9|0.9 " ]' "no commune: the whole name among 401 homonyms, the largest commune's ($(rows "$OUT/gare-out.csv" "result_id,result_citycode,result_score,result_score_next" | tr "\n" " "))"

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
