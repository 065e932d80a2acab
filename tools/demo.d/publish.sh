#!/usr/bin/env bash
# Demo: a portal's publication run (geoflux publish) on the samples, for the
# Ille-et-Vilaine perimeter: Bruz (BAL 1.3), Corps-Nuds sent in
# Windows-1252 with French dates, an EPCI file mixing two communes outside
# the perimeter, and an HTML error page saved as .csv. Run 1 publishes;
# run 2 with Bruz losing a third of its addresses publishes it with a
# warning and its diff. The SITE's dashboard opens from disk.
set -euo pipefail
GF=${1:-build/geoflux}
cd "$(dirname "$0")/../.."
S=data/samples
D=out/publish
rm -rf $D; mkdir -p $D/sources/{bruz,corps-nuds,epci,misc}
cp $S/bal/bal_35047_v1.3.csv $D/sources/bruz/bal.csv
sed '1s/^\xEF\xBB\xBF//' $S/bal/bal_simple_v1.3.csv \
  | awk -F';' 'BEGIN{OFS=";"} NR>1 && NR<=6 {split($18,d,"-"); $18=d[3]"/"d[2]"/"d[1]; $19="oui"} {print}' \
  | iconv -f UTF-8 -t WINDOWS-1252 > $D/sources/corps-nuds/bal.csv
cp $S/bal/1.3-valid-multi-commune.csv $D/sources/epci/adresses.csv
printf '<!DOCTYPE html>\n<html><body>Erreur 404</body></html>\n' > $D/sources/misc/export.csv
pub() { "$GF" publish $D/sources --store $D/bal-35.store -o $D/site --perimeter 35 \
  --communes $S/boundaries/communes-35-ille-et-vilaine.geojson "$@" || [ $? -eq 1 ]; }
echo "== geoflux publish: 4 submissions for Ille-et-Vilaine -> $D/site (exit 1: some are rejected)"
pub --at 2026-12-01
python3 - $D/site/report.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for s in r['submissions']:
    print('  %-40s %-9s %s' % (s['file'], s['status'], s['reason'] or ', '.join(c['code'] + ' ' + c['status'] for c in s['communes'])))
for c in r['communes']:
    if c['status'] != 'missing':
        print('  %s %-12s %-9s rows %s, repairs %s' % (c['code'], c['name'], c['status'], c.get('rows'), c.get('repairs')))
PY
echo
echo "== run 2: Bruz sends a file with a third of its addresses gone"
awk -F';' 'NR == 1 || NR % 3 != 0' $S/bal/bal_35047_v1.3.csv > $D/sources/bruz/bal.csv
pub --at 2026-12-02
python3 -c "
import json; r = json.load(open('$D/site/report.json'))
c = [c for c in r['communes'] if c['code'] == '35047'][0]
print('  35047', c['status'], 'revision', c['revision'], c['changes'], c['reasons'])"
echo "  dashboard: open $D/site/index.html; store: $D/bal-35.store (sqlite3)"
