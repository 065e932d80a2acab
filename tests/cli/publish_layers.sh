#!/usr/bin/env bash
# geoflux publish: the layers of the map files (docs/publish.md), read back
# by GDAL (adresses.gpkg) and by the npm pmtiles + vector-tile decoders
# (adresses.pmtiles). Run 1 publishes Bruz with two rows the rules refuse;
# run 2 removes 10 of its addresses and moves 3, and a commune outside the
# perimeter is rejected. The coverage dashboard of that real SITE is then
# checked in headless Chromium (tests/js/dashboard_check.mjs, as
# dashboard.sh does on its fixture; screenshots in OUTDIR).
. "$(dirname "$0")/lib.sh" "$@"
S=$SRC/data/samples
W=$OUT/work
B=$S/boundaries/communes-35-ille-et-vilaine.geojson
mkdir -p $W/src/bruz
# two rows with a number that is not one: refused, the commune still published
awk -F';' 'BEGIN{OFS=";"} {print} NR>=2 && NR<=3 {$2=$2"9"; $9="abc"; print}' $S/bal/bal_35047_v1.3.csv > $W/src/bruz/bal.csv
pub() { (cd $W && SOURCE_DATE_EPOCH=1764547200 "$GF" publish src --store store.db -o site --perimeter 35 --communes $B "$@"); }
layers() { ogrinfo -ro -q "$1" 2>/dev/null | sed -n 's/^[0-9]*: \([a-z_]*\).*/\1/p' | sort | tr '\n' ' '; }
count() { ogrinfo -ro -so "$1" "$2" 2>/dev/null | sed -n 's/^Feature Count: //p'; }
sql() { ogrinfo -ro -q "$1" -sql "$2" 2>/dev/null | sed -n 's/^  [^ ]* ([A-Za-z0-9]*) = //p' | head -1; }
node_ok=1
if ! command -v node >/dev/null || [ ! -d $SRC/tests/js/node_modules/pmtiles ]; then node_ok=0; fi
tiles() { (cd $SRC/tests/js && node pmtiles_layers.mjs "$@"); }

pub --at 2026-12-01 > $OUT/run1.out 2> $OUT/run1.err; rc=$?
cat $OUT/run1.err
ok "[ $rc -eq 0 ]" "run 1: exit 0, got $rc"
G=$W/site/adresses.gpkg
ok "[ \"\$(layers $G)\" = 'addresses changes communes rejects ' ]" "adresses.gpkg layers: addresses, changes, communes, rejects (got $(layers $G))"
lc=$(sqlite3 -readonly $G "SELECT DISTINCT last_change FROM gpkg_contents" 2>&1 | tr '\n' ' ')
ok "[ \"$lc\" = '2026-12-01T00:00:00.000Z ' ]" "adresses.gpkg's last_change is the run's date (--at, over SOURCE_DATE_EPOCH): got $lc"
# the boundaries of the perimeter's communes (the file also holds merged ones)
ncommunes=$(python3 -c "
import json
codes = {c['code'] for c in json.load(open('$W/site/report.json'))['communes']}
print(sum(1 for f in json.load(open('$B'))['features'] if f['properties']['code'] in codes))")
ok "[ \"\$(count $G communes)\" = $ncommunes ]" "the communes layer: every commune of the perimeter ($(count $G communes) of $ncommunes)"
ok "[ \"\$(sql $G \"SELECT status FROM communes WHERE code = '35047'\")\" = published ]" "Bruz's polygon says published"
ok "[ \"\$(sql $G \"SELECT count(*) FROM communes WHERE status = 'missing'\")\" = $((ncommunes - 1)) ]" "the others say missing"
share=$(python3 -c "import json; print([c for c in json.load(open('$W/site/report.json'))['communes'] if c['code']=='35047'][0]['certified_share'])")
ok "python3 -c \"assert float('\$(sql $G \"SELECT certified_share FROM communes WHERE code = '35047'\")') == $share\"" "its certified share is report.json's ($share)"
ok "[ \"\$(count $G rejects)\" = 2 ] && [ \"\$(sql $G \"SELECT count(*) FROM rejects WHERE reason LIKE '%numero%' AND source LIKE '%bal.csv'\")\" = 2 ]" "the rejects table holds the 2 refused rows with their reason ($(count $G rejects))"
ok "[ \"\$(count $G changes)\" = 0 ]" "a first revision makes no change rows"
ok "[ -s $W/site/carte/index.html ] && [ -s $W/site/carte/map.js ] && grep -q 'content=\"../adresses.pmtiles\"' $W/site/carte/index.html" "SITE/carte/: the map page, over ../adresses.pmtiles"
ok "[ \"\$(count $G addresses)\" = \$((\$(wc -l < $S/bal/bal_35047_v1.3.csv) - 1)) ]" "every valid row is an address ($(count $G addresses))"
if [ $node_ok = 1 ]; then
  tiles $W/site/adresses.pmtiles > $OUT/tiles1.json 2> $OUT/tiles1.err
  ok "python3 -c \"
import json; t = json.load(open('$OUT/tiles1.json'))
assert sorted(t['vector_layers']) == ['addresses', 'changes', 'communes'], t['vector_layers']
c = t['layers']['communes']; assert c['features'] == $ncommunes, c
assert {'code', 'name', 'status', 'certified_share', 'rows', 'added', 'moved'} <= set(c['keys']), c['keys']
assert c['types'] == [3], c
\"" "pmtiles: layers addresses, changes, communes; every commune at maxzoom with its coverage properties ($(cat $OUT/tiles1.err))"
else
  echo "SKIPPED: pmtiles checks (node or tests/js/node_modules missing)"
fi

# ---- run 2: 10 addresses removed, 3 moved by about 100 m
awk -F';' 'BEGIN{OFS=";"} NR>=100 && NR<110 {next} NR>=200 && NR<203 {$14=sprintf("%.7f",$14+0.0013)} {print}' $W/src/bruz/bal.csv > $W/bal.tmp && mv $W/bal.tmp $W/src/bruz/bal.csv
mkdir -p $W/src/misc
awk -F';' 'NR==1 || $2 ~ /^31591/' $S/bal/1.3-valid-multi-commune.csv > $W/src/misc/escoulis.csv
pub --at 2026-12-02 > $OUT/run2.out 2> $OUT/run2.err; rc=$?
cat $OUT/run2.err
ok "[ $rc -eq 1 ]" "run 2: exit 1 (a commune outside the perimeter), got $rc"
nchg=$(($(wc -l < $W/site/changes.csv) - 1))
ok "[ $nchg -eq 13 ]" "changes.csv: 10 removed + 3 moved ($nchg rows)"
ok "[ \"\$(count $G changes)\" = $nchg ]" "the changes layer holds every change ($(count $G changes))"
ok "[ \"\$(sql $G \"SELECT count(*) FROM changes WHERE change = 'removed'\")\" = 10 ] && [ \"\$(sql $G \"SELECT count(*) FROM changes WHERE change = 'moved'\")\" = 3 ]" "10 removed, 3 moved"
ok "[ \"\$(sql $G \"SELECT count(*) FROM changes WHERE geom IS NULL OR ST_IsEmpty(geom)\")\" = 0 ]" "every change has a position (a removed address at its old one)"
ok "[ \"\$(sql $G \"SELECT count(*) FROM changes c WHERE change = 'moved' AND abs(ST_X(geom) - new_lon) < 1e-9\")\" = 3 ]" "a moved address is at its new position"
ok "[ \"\$(sql $G \"SELECT typeof(commune_insee) FROM changes LIMIT 1\")\" = text ]" "codes stay text (leading zeros, 2A)"
if [ $node_ok = 1 ]; then
  tiles $W/site/adresses.pmtiles > $OUT/tiles2.json 2> $OUT/tiles2.err
  ok "python3 -c \"
import json; t = json.load(open('$OUT/tiles2.json'))
c = t['layers']['changes']; assert c['features'] == $nchg and c['types'] == [1], c
assert {'change', 'id', 'commune_insee', 'distance_m'} <= set(c['keys']), c['keys']
assert t['minzoom']['changes'] == 10, t['minzoom']
\"" "pmtiles: every change is a point at maxzoom, from zoom 10 on ($(cat $OUT/tiles2.err))"
fi

# ---- the dashboard of this SITE in a browser
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROME" ] && [ $node_ok = 1 ] && [ -d $SRC/tests/js/node_modules/playwright-core ]; then
  timeout 300 node $SRC/tests/js/dashboard_check.mjs "$CHROME" $W/site $OUT 90 --filter Saint > $OUT/dashboard.log 2>&1; rc=$?
  sed 's/^/  dashboard: /' $OUT/dashboard.log
  ok "[ $rc -eq 0 ]" "the dashboard of the published SITE passes dashboard_check.mjs (exit $rc)"
  ok "[ -s $OUT/home.png ] && [ -s $OUT/commune.png ]" "dashboard screenshots in $OUT"
else
  echo "SKIPPED: dashboard in Chromium (chromium, node or playwright-core missing)"
fi
gf_test_end
