#!/usr/bin/env bash
# geoflux publish: the scenario of issue 16 on the sample files.
# Run 1 publishes communes of several versions (a 1.3 file with a BOM, a
# Windows-1252 file, an EPCI file of two communes, a CC44 file), rejects an
# HTML page saved as .csv and a commune outside the perimeter, and settles
# two producers of one commune with --prefer. Run 2, same inputs: unchanged
# everywhere, SITE byte-identical. Run 3: a commune losing 30 % of its
# addresses is published with a warning, one losing 90 % is rejected (its
# revision stays published), and the diffs count exactly what changed.
. "$(dirname "$0")/lib.sh" "$@"
S=$SRC/data/samples
W=$OUT/work
mkdir -p $W/src/{bruz,corps-nuds,epci,soual,rival,misc}
cp $S/bal/bal_35047_v1.3.csv $W/src/bruz/bal.csv
# Corps-Nuds in Windows-1252, with French dates and certification written oui
sed '1s/^\xEF\xBB\xBF//' $S/bal/bal_simple_v1.3.csv | awk -F';' 'BEGIN{OFS=";"} NR>1 && NR<=6 {split($18,d,"-"); $18=d[3]"/"d[2]"/"d[1]; $19="oui"} {print}' \
  | iconv -f UTF-8 -t WINDOWS-1252 > $W/src/corps-nuds/bal.csv
# the EPCI file: two communes in one file (Perrecy-les-Forges and Landres)
{ cat $S/bal/test-valid.csv | sed 's/;;;\r\?$//' | sed '1s/^\xEF\xBB\xBF//'; tail -n +2 $S/bal/adresses-54084.csv; } > $W/src/epci/epci.csv
# Soual: CC44 x/y only (long/lat emptied), to be computed by the repairs
awk -F';' 'BEGIN{OFS=";"} NR>1{$11=""; $12=""} {print}' $S/bal/soual-81289-cc44-extract.csv > $W/src/soual/soual.csv
# a rival producer for Corps-Nuds: one address renamed
sed '3s/Rue de Chanteloup/Rue de Chantelou/' $S/bal/bal_simple_v1.3.csv > $W/src/rival/35088.csv
printf '<!DOCTYPE html>\n<html><head><title>404</title></head><body>Not found</body></html>\n' > $W/src/misc/export.csv
printf '35047\n35088\n71346\n54084\n81289\n35001\n' > $W/perimeter.txt
# a commune outside the perimeter
awk -F';' 'NR==1 || $2 ~ /^31591/' $S/bal/1.3-valid-multi-commune.csv > $W/src/misc/escoulis.csv

pub() { (cd $W && SOURCE_DATE_EPOCH=1764547200 "$GF" publish src --store store.db -o site --perimeter perimeter.txt --prefer corps-nuds "$@"); }
json() { python3 -c "import json,sys; r=json.load(open('$W/site/report.json')); $1"; }
commune() { json "c=[c for c in r['communes'] if c['code']=='$1'][0]; print(c$2)"; }

pub --at 2026-12-01 > $OUT/run1.out 2> $OUT/run1.err; rc=$?
cat $OUT/run1.err
ok "[ $rc -eq 1 ]" "run 1: exit 1 (a rejected page, a commune outside, a producer in conflict), got $rc"
ok "[ -f $W/site/report.json ] && [ -f $W/site/bal/35047.csv ]" "run 1 wrote the SITE"
for c in 35047 35088 71346 54084 81289; do
  ok "[ \"\$(commune $c \"['status']\")\" = published ]" "run 1: commune $c published (got $(commune $c "['status']" 2>&1))"
  ok "[ -s $W/site/bal/$c.csv ]" "bal/$c.csv written"
done
ok "[ \"\$(commune 35001 \"['status']\")\" = missing ]" "35001 (no BAL) is missing"
ok "[ \"\$(commune 31591 \"['status']\")\" = rejected ]" "31591 outside the perimeter is rejected"
ok "commune 31591 \"['reasons'][0]\" | grep -q perimeter" "31591's reason names the perimeter"
ok "[ \"\$(commune 35088 \"['producer']\")\" = corps-nuds ]" "--prefer: corps-nuds's revision is published"
ok "json \"print([s for s in r['submissions'] if 'rival' in s['file']][0]['status'])\" | grep -qx conflict" "the rival submission is in conflict"
ok "json \"s=[s for s in r['submissions'] if s['file'].endswith('export.csv')][0]; print(s['status'], s['reason'])\" | grep -q '^rejected.*HTML'" "the HTML page is a rejected submission with its reason"
ok "commune 35088 \"['repairs']\" | grep -q repair.encoding" "the Windows-1252 file counts its repair"
ok "[ \"\$(commune 35088 \"['repairs']['repair.date_fr']\")\" = 5 ] && [ \"\$(commune 35088 \"['repairs']['repair.certification']\")\" = 5 ]" "Corps-Nuds: 5 French dates and 5 'oui' repaired ($(commune 35088 "['repairs']"))"
ok "[ \$(grep -c 'repair.date_fr' $W/site/repairs/35088.csv) -eq 5 ]" "repairs/35088.csv lists each repair with its line"
ok "[ \"\$(commune 81289 \"['repairs']['repair.lonlat_from_xy']\")\" = 2 ]" "Soual: long/lat computed from CC44 x/y ($(commune 81289 "['repairs']"))"
ok "python3 -c \"
import csv
a = {r['cle_interop']: r for r in csv.DictReader(open('$S/bal/soual-81289-cc44-extract.csv'), delimiter=';')}
b = {r['cle_interop']: r for r in csv.DictReader(open('$W/site/bal/81289.csv'), delimiter=';')}
assert a.keys() == b.keys()
for k in a: assert abs(float(a[k]['long']) - float(b[k]['long'])) < 2e-5 and abs(float(a[k]['lat']) - float(b[k]['lat'])) < 2e-5, (a[k], b[k])
\"" "Soual's computed long/lat match the original ones"
ok "iconv -f UTF-8 -t UTF-8 $W/site/bal/35088.csv >/dev/null && grep -q 'Chanteloup' $W/site/bal/35088.csv" "bal/35088.csv is UTF-8"
ok "json \"c=r['counts']['rows']; assert c['read']==c['published']+c['rejected'], c\"" "report.json adds up: read = published + rejected"
ok "[ \"\$(head -1 $W/site/bal/35047.csv)\" = \"\$(head -1 $W/site/bal/81289.csv)\" ] && head -1 $W/site/bal/35047.csv | grep -q '^id_ban_commune;id_ban_toponyme;id_ban_adresse;cle_interop'" "every bal/CODE.csv is BAL 1.4"
# CC44 x/y recomputed in Lambert-93 (the legal CRS)
ok "awk -F';' 'NR==2{exit !(\$14 > 500000 && \$14 < 700000 && \$15 > 6200000 && \$15 < 6400000)}' $W/site/bal/81289.csv" "Soual's x/y are Lambert-93 in the published BAL"
ok "gzip -t $W/site/adresses.csv.gz" "adresses.csv.gz is a valid gzip file (one member per commune)"
n_rows=$(( $(zcat $W/site/adresses.csv.gz | wc -l) - 1 ))
n_bal=$(for f in $W/site/bal/*.csv; do tail -n +2 $f; done | wc -l)
ok "[ $n_rows -eq $n_bal ]" "adresses.csv.gz holds every published row ($n_rows vs $n_bal)"
ok "[ -f $W/site/index.html ] && [ -f $W/site/data.js ] && [ -f $W/site/dashboard/dashboard.js ]" "the dashboard is in the SITE"
ok "python3 -c \"import json; json.load(open('$W/site/communes.geojson'))\"" "communes.geojson is JSON"
if command -v ogrinfo >/dev/null; then
  ok "ogrinfo -ro -so $W/site/adresses.gpkg addresses | grep -q 'Feature Count: $n_rows'" "GDAL reads adresses.gpkg with every published row"
fi
ok "[ -s $W/site/adresses.pmtiles ]" "adresses.pmtiles written"
# every published BAL accepted by the reference validator (@ban-team/validateur-bal)
if command -v node >/dev/null 2>&1; then
  if [ -d "$SRC/tests/js/node_modules/@ban-team/validateur-bal" ]; then
    node "$SRC/tests/parity/ref_validate.js" --profile 1.4 $W/site/bal/*.csv > $OUT/ref.jsonl 2> $OUT/ref.err
    ok "[ \$(grep -c '\"valid\":true' $OUT/ref.jsonl) -eq 5 ]" "the reference validator accepts the 5 published BAL files ($(grep -c '"valid":false' $OUT/ref.jsonl) refused)"
  else
    ok "false" "tests/js/node_modules/@ban-team/validateur-bal missing (tools/setup.sh test)"
  fi
else
  echo "SKIPPED (node absent): the reference validator's check of bal/*.csv"
fi
# the store: one run, its revisions
ok "[ \"\$(sqlite3 $W/store.db 'select count(*) from published')\" = 5 ]" "the store publishes 5 communes"

# ---- run 2: the same inputs
(cd $W && find site -type f | sort | xargs md5sum) > $OUT/site1.md5
pub --at 2026-12-02 > $OUT/run2.out 2> $OUT/run2.err; rc=$?
(cd $W && find site -type f | sort | xargs md5sum) > $OUT/site2.md5
ok "[ $rc -eq 1 ]" "run 2: exit 1 (the same rejects), got $rc"
ok "grep -q 'published 0, unchanged 5' $OUT/run2.err" "run 2: every commune unchanged ($(grep communes: $OUT/run2.err))"
ok "cmp -s $OUT/site1.md5 $OUT/site2.md5" "run 2: the SITE is byte-identical"
ok "grep -q 'unchanged (nothing new to publish)' $OUT/run2.err" "run 2 says nothing was published"
# a store written before the file hash was XXH3-128 (keys: a pair of FNV-1a
# streams, no meta.file_hash): the files it published are still known, and
# re-keyed in the same run
L=$W.legacy; rm -rf $L $W.control; cp -a $W $L; cp -a $W $W.control
W=$W.control pub --at 2026-12-02 -v > /dev/null 2> $OUT/control.err
python3 - "$L" <<'PY' || echo "legacy store not made"
import os, sqlite3, sys
M = (1 << 64) - 1
def mix(z):
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return z ^ (z >> 31)
def fnv_pair(path):
    a, b = 14695981039346656037, 0x6c62272e07bb0142
    for c in open(path, 'rb').read():
        a = ((a ^ c) * 1099511628211) & M
        b = (((b ^ c) * 0x100000001b3) + 0x9e3779b97f4a7c15) & M
    return '%016x%016x' % (mix(a), mix(b))
os.chdir(sys.argv[1])
d = sqlite3.connect('store.db')
keys = {h: fnv_pair(f) for f, h in d.execute('select file, file_hash from revisions union select file, file_hash from equip_submissions') if os.path.exists(f)}
for t in ('revisions', 'equip_submissions', 'equip_rows', 'equip_rejects', 'equip_codes', 'equipments'):
    for new, old in keys.items():
        d.execute('update %s set file_hash = ? where file_hash = ?' % t, (old, new))
d.execute("delete from meta where key = 'file_hash'")
d.commit()
print(len(keys), file=sys.stderr)
PY
(cd $L && find site -type f | sort | xargs md5sum) > $OUT/legacy0.md5
W=$L pub --at 2026-12-02 -v > /dev/null 2> $OUT/legacy.err
(cd $L && find site -type f | sort | xargs md5sum) > $OUT/legacy1.md5
nh() { grep -o '[0-9]* parts harmonised' "$1"; }
ok "[ -n \"\$(nh $OUT/control.err)\" ] && [ \"\$(nh $OUT/legacy.err)\" = \"\$(nh $OUT/control.err)\" ] && grep -q 'published 0, unchanged 5' $OUT/legacy.err && cmp -s $OUT/legacy0.md5 $OUT/legacy1.md5" \
  "a store keyed by the old file hash: every file still known (as many parts harmonised as with a new store: $(nh $OUT/legacy.err), $(nh $OUT/control.err)), the same SITE"
keys() { sqlite3 "$1" "select commune, revision, file_hash from revisions order by 1, 2; select file_hash from equip_submissions order by 1"; }
ok "[ \"\$(sqlite3 $L/store.db \"select value from meta where key = 'file_hash'\")\" = xxh3-128 ] && [ -n \"\$(keys $W/store.db)\" ] && [ \"\$(keys $L/store.db)\" = \"\$(keys $W/store.db)\" ]" \
  "and re-keyed: the files' keys are the ones a new store holds"
sqlite3 $L/store.db "update meta set value = 'sha3-512' where key = 'file_hash'"
W=$L pub --at 2026-12-02 > /dev/null 2> $OUT/newer.err; rc=$?
ok "[ $rc -eq 3 ] && grep -q \"keyed by 'sha3-512', a hash this geoflux does not know\" $OUT/newer.err" "a store keyed by an unknown hash: refused (rc $rc: $(cat $OUT/newer.err))"
# the rows in another order: still unchanged
{ head -1 $W/src/bruz/bal.csv; tail -n +2 $W/src/bruz/bal.csv | tac; } > $W/t && mv $W/t $W/src/bruz/bal.csv
pub --at 2026-12-02 > /dev/null 2> $OUT/run2b.err
ok "grep -q 'published 0, unchanged 5' $OUT/run2b.err" "rows reordered: unchanged"

# ---- run 3: Bruz loses 30 % of its addresses (whole addresses, by cle_interop),
# one is renamed and one moved by about 20 m; Landres loses 90 %
python3 - "$W" <<'EOF'
import sys, hashlib
W = sys.argv[1]
def rw(path, keep_share):
    lines = open(path, encoding='utf-8-sig').read().splitlines()
    h = lines[0].split(';'); ik = h.index('cle_interop')
    keys = sorted({l.split(';')[ik] for l in lines[1:]})
    drop = set(keys[i] for i in range(len(keys)) if (i * 7919) % 100 >= keep_share)
    out = [lines[0]] + [l for l in lines[1:] if l.split(';')[ik] not in drop]
    return h, out, drop, len(keys)
h, out, drop, n = rw(W + '/src/bruz/bal.csv', 70)
iv, ilon = h.index('voie_nom'), h.index('long')
f = out[1].split(';'); key1 = f[h.index('cle_interop')]
f[iv] = f[iv] + ' prolongée'; out[1] = ';'.join(f)
# move another address (every row of it) by 0.0003 degrees of longitude
k2 = out[50].split(';')[h.index('cle_interop')]
for i in range(1, len(out)):
    g = out[i].split(';')
    if g[h.index('cle_interop')] == k2 and g[h.index('cle_interop')] != key1:
        g[ilon] = '%.7f' % (float(g[ilon]) + 0.0003); out[i] = ';'.join(g)
# identifiers: one address keeps its street and number under a new id
# (@a: of uid_adresse), another keeps its id under a new number
import re
iu, inum, ik = h.index('uid_adresse'), h.index('numero'), h.index('cle_interop')
def pick(start):  # an address with a BAN id and an ordinary number
    for l in out[start:]:
        g = l.split(';')
        if '@a:' in g[iu] and g[inum].isdigit() and int(g[inum]) < 5000 and g[ik] not in (key1, k2):
            return g[ik]
k3 = pick(100)
k4 = pick(next(i for i in range(101, len(out)) if out[i].split(';')[ik] not in (k3, key1, k2) and i > 150))
assert len({key1, k2, k3, k4}) == 4
for i in range(1, len(out)):
    g = out[i].split(';')
    if g[ik] == k3:
        g[inum] = str(int(g[inum]) + 1000)
        parts = g[ik].split('_')
        parts[2] = '%05d' % int(g[inum])
        g[ik] = '_'.join(parts)
    if g[ik] == k4:
        g[iu] = re.sub(r'@a:[0-9a-f-]{36}', '@a:0b5c1e2a-4f7d-4c3b-9a8e-1d2c3b4a5f60', g[iu])
    out[i] = ';'.join(g)
open(W + '/src/bruz/bal.csv', 'w').write('\n'.join(out) + '\n')
open(W + '/expect_bruz', 'w').write('%d %d\n' % (len(drop) + 1, n))
# Landres: keep only 54084 rows of 10 % of the addresses
lines = open(W + '/src/epci/epci.csv', encoding='utf-8').read().splitlines()
h = lines[0].split(';'); ik = h.index('cle_interop')
k = sorted({l.split(';')[ik] for l in lines[1:] if l.split(';')[ik].startswith('54084')})
keep = set(k[:len(k) // 10])
out = [l for l in lines if not l.split(';')[ik].startswith('54084') or l.split(';')[ik] in keep]
open(W + '/src/epci/epci.csv', 'w').write('\n'.join(out) + '\n')
EOF
read removed total < $W/expect_bruz
ino_landres=$(stat -c %i $W/site/bal/54084.csv); ino_bruz=$(stat -c %i $W/site/bal/35047.csv)
pub --at 2026-12-03 > $OUT/run3.out 2> $OUT/run3.err; rc=$?
cat $OUT/run3.err
ok "[ $rc -eq 1 ]" "run 3: exit 1 (Landres rejected), got $rc"
ok "[ \"\$(commune 35047 \"['status']\")\" = published ]" "run 3: Bruz (-30 %) published"
ok "commune 35047 \"['reasons']\" | grep -q 'warning: 30 %'" "run 3: Bruz warns about the deletion ($(commune 35047 "['reasons']"))"
ok "[ \"\$(commune 35047 \"['changes']['id_changed']\")\" = 1 ] && [ \"\$(commune 35047 \"['changes']['id_reused']\")\" = 1 ]" "run 3: one address under a new identifier, one identifier naming another number"
ok "commune 35047 \"['reasons']\" | grep -q 'new identifier'" "run 3: the identifier change is a warning"
ok "[ \"\$(commune 35047 \"['changes']['removed']\")\" = $removed ]" "run 3: Bruz removed = $removed ($(commune 35047 "['changes']"))"
ok "[ \"\$(commune 35047 \"['changes']['added']\")\" = 1 ]" "run 3: one Bruz address added (the old one under a new id)"
ok "[ \"\$(commune 35047 \"['changes']['modified']\")\" = 2 ]" "run 3: two Bruz addresses modified (renamed, renumbered)"
ok "[ \"\$(commune 35047 \"['changes']['moved']\")\" = 1 ]" "run 3: one Bruz address moved"
ok "[ \"\$(commune 35047 \"['revision']\")\" = 2 ]" "run 3: Bruz at revision 2"
ok "[ \"\$(commune 54084 \"['status']\")\" = rejected ]" "run 3: Landres (-90 %) rejected"
ok "commune 54084 \"['reasons'][0]\" | grep -q 'max-deletion'" "run 3: Landres's reason names --max-deletion"
ok "[ \"\$(commune 54084 \"['revision']\")\" = 1 ]" "run 3: Landres's revision 1 stays published"
ok "[ \$(( \$(wc -l < $W/site/bal/54084.csv) - 1 )) -gt 300 ]" "run 3: bal/54084.csv is still the full revision 1"
# a commune whose published revision did not change keeps its files: linked
# from the SITE they were built in, not written again; a new revision's are new
ok "[ \$(stat -c %i $W/site/bal/54084.csv) = $ino_landres ] && [ \$(stat -c %i $W/site/bal/35047.csv) != $ino_bruz ]" "run 3: Landres's bal/54084.csv linked from the old SITE, Bruz's written anew"
ok "sed -n 2p $W/site/.geoflux-publication | grep -qx 'files 1' && grep -qx '35047 2' $W/site/.geoflux-publication" "run 3: the SITE's marker lists the communes' revisions"
ok "[ \$(( \$(wc -l < $W/site/changes/35047.csv) - 1 )) -eq \$(( $removed + 4 )) ]" "changes/35047.csv lists the $removed removals, the addition, the two modifications and the move"
ok "[ ! -f $W/site/changes/54084.csv ]" "no changes for the rejected commune"
ok "grep -q '^moved;' $W/site/changes/35047.csv && grep -q '^modified;.*voie_nom' $W/site/changes/35047.csv" "changes.csv says moved and modified (voie_nom)"

# ---- the same diff with geoflux diff on the two revisions
sqlite3 $W/store.db "select writefile('$OUT/r1.z', data) from revisions where commune='35047' and revision=1" >/dev/null
# the store keeps the rows without their header, as one gzip member
python3 -c "import gzip; h = open('$W/site/bal/35047.csv', 'rb').readline(); open('$OUT/r1.csv', 'wb').write(h + gzip.decompress(open('$OUT/r1.z', 'rb').read()))"
"$GF" diff $OUT/r1.csv $W/site/bal/35047.csv -o $OUT/d.csv -q; drc=$?
ok "[ $drc -eq 1 ] && cmp -s $OUT/d.csv $W/site/changes/35047.csv" "geoflux diff of the two revisions gives changes/35047.csv"

# ---- bad files, --manifest, --max-size: each a rejected submission with its reason
M=$OUT/misc; mkdir -p $M/src/a $M/src/b
cp $S/bal/bal_simple_v1.3.csv $M/src/a/corps-nuds.csv
: > $M/src/a/empty.csv
head -c 3000 /bin/ls > $M/src/a/binary.csv
printf 'foo;bar\n1;2\n' > $M/src/a/other.csv
cp $S/bal/bal_35047_v1.3.csv $M/src/b/bruz.csv
printf 'file;producer;received_at\ncorps-nuds.csv;Rennes Métropole;2026-11-30T08:00:00Z\n' > $M/manifest.csv
"$GF" publish $M/src --store $M/store.db -o $M/site --manifest $M/manifest.csv --max-size 1M --at 2026-12-01 -q; rc=$?
mj() { python3 -c "import json; r=json.load(open('$M/site/report.json')); $1"; }
sub() { mj "print([s for s in r['submissions'] if s['file'].endswith('$1')][0]$2)"; }
ok "[ $rc -eq 1 ]" "bad files: exit 1 ($rc)"
ok "[ \"\$(sub corps-nuds.csv \"['producer']\")\" = 'Rennes Métropole' ] && [ \"\$(sub corps-nuds.csv \"['received_at']\")\" = 2026-11-30T08:00:00Z ]" "--manifest names the producer and the date"
ok "[ \"\$(sub corps-nuds.csv \"['status']\")\" = accepted ]" "the manifest's file is published"
ok "sub empty.csv \"['reason']\" | grep -q 'empty'" "an empty file: rejected, 'empty'"
ok "[ \"\$(sub binary.csv \"['status']\")\" = rejected ]" "a binary file: rejected ($(sub binary.csv "['reason']"))"
ok "sub other.csv \"['reason']\" | grep -q 'no known schema'" "a CSV of another schema: rejected, 'no known schema'"
ok "sub bruz.csv \"['reason']\" | grep -q 'max-size'" "a file over --max-size: rejected, naming the option"
ok "mj \"assert r['counts']['submissions']['total'] == 5 and r['counts']['submissions']['rejected'] == 4, r['counts']\"" "report.json counts the 5 submissions"

# ---- a multi-commune file's rejected and repaired rows are named by that
# file and its lines, not by the run's working copy of the commune's part
# (they named SITE.geoflux-work/sub0-54084.csv and its lines, 2 for the
# first Landres row, when the user's file has it at line 600 or so)
L=$OUT/lines; rm -rf $L; mkdir -p $L/src/epci
{ cat $S/bal/test-valid.csv | sed 's/;;;\r\?$//' | sed '1s/^\xEF\xBB\xBF//'; tail -n +2 $S/bal/adresses-54084.csv; } > $L/src/epci/epci.csv
n=$(wc -l < $L/src/epci/epci.csv); X=$((n - 5)); Y=$((n - 2))
# line X: long written with a decimal comma (repaired); line Y: numero 4x (rejected)
awk -F';' -v X=$X -v Y=$Y 'BEGIN{OFS=";"} NR==X {sub(/\./, ",", $14)} NR==Y {$9="4x"} {print}' $L/src/epci/epci.csv > $L/e && mv $L/e $L/src/epci/epci.csv
printf '54084\n71346\n' > $L/per.txt
(cd $L && "$GF" publish src --store s.db -o site --perimeter per.txt --at 2026-12-01 -q); rc=$?
rawY=$(sed -n "${Y}p" $L/src/epci/epci.csv)
ok "[ $rc -eq 0 ] && python3 -c \"
import csv, sys
rows = list(csv.reader(open('$L/site/rejects/54084.csv', encoding='utf-8'), delimiter=';'))[1:]
assert [(r[0], r[1], r[3]) for r in rows] == [('src/epci/epci.csv', '$Y', sys.argv[1].rstrip('\\r'))], rows
rep = list(csv.reader(open('$L/site/repairs/54084.csv', encoding='utf-8'), delimiter=';'))[1:]
assert [r[0] for r in rep] == ['$X'] and 'comma' in rep[0][1], rep
\" \"\$rawY\"" "a split file's rejected row and repaired row: the user's file and lines $Y and $X ($(tail -n +2 $L/site/rejects/54084.csv 2>&1 | cut -c1-120); $(tail -n +2 $L/site/repairs/54084.csv 2>&1))"
ok "! grep -rq 'geoflux-work' $L/site/rejects $L/site/repairs $L/site/report.json" "no SITE file names the run's working directory"

# ---- --max-memory: the map files' R-tree and tile sort spill to disk past
# it; the same publication, byte for byte (the R-tree packed from the
# sorted runs in the order it has in memory)
M=$OUT/maxmem; rm -rf $M; mkdir -p $M && cp -r $W/src $W/perimeter.txt $M/
for d in def small; do
  mm=(); [ $d = small ] && mm=(--max-memory 64K)
  mkdir -p $M/$d && cp -r $M/src $M/perimeter.txt $M/$d/
  (cd $M/$d && SOURCE_DATE_EPOCH=1764547200 "$GF" publish src --store store.db -o site --perimeter perimeter.txt \
     --communes "$SRC/data/samples/boundaries/communes-54-meurthe-et-moselle.geojson" \
     --prefer corps-nuds --at 2026-12-01 -v "${mm[@]}" 2> ../$d.err)
  (cd $M/$d && find site -type f | sort | xargs md5sum) > $M/$d.md5
  sqlite3 $M/$d/site/adresses.gpkg "select * from addresses order by fid" | md5sum > $M/$d.rows
  sqlite3 $M/$d/site/adresses.gpkg "select rtreecheck('rtree_addresses_geom')" > $M/$d.rtree
done
ok "cmp -s $M/def.md5 $M/small.md5 && grep -q adresses.gpkg $M/def.md5" "--max-memory 64K: every file byte-identical, the GeoPackage and the PMTiles built from spilled sorts included"
ok "cmp -s $M/def.rows $M/small.rows && grep -qx ok $M/small.rtree && grep -qx ok $M/def.rtree" "--max-memory 64K: the GeoPackage's features identical, its spilled R-tree valid ($(cat $M/small.rtree))"
ok "grep -q 'R-tree of [0-9]* features from [0-9]* sorted runs on disk' $M/small.err && ! grep -q 'sorted runs on disk' $M/def.err" "--max-memory 64K acts: the R-tree was built from the external sort"
ok "grep -q 'site/adresses.gpkg: layer communes: [0-9]* features from site/communes.geojson' $M/small.err && ! grep -q geoflux-new $M/small.err $M/def.err" "-v: the map files' lines name the SITE's files, never the working directory ($(grep -m1 'layer communes' $M/small.err))"
"$GF" publish $W/src --store $OUT/s.db -o $OUT/site-x --max-memory 0 2> $OUT/mm.err; rc=$?
ok "[ $rc -eq 2 ] && grep -q 'max-memory' $OUT/mm.err" "--max-memory 0: usage error ($rc)"

# ---- usage and refusals
mkdir -p $OUT/other && echo hello > $OUT/other/notes.txt
(cd $W && "$GF" publish src --store store.db -o $OUT/other 2> $OUT/other.err); rc=$?
ok "[ $rc -eq 3 ] && grep -q 'holds other data' $OUT/other.err && [ -f $OUT/other/notes.txt ]" "a directory holding other data is not replaced (rc $rc)"
"$GF" publish $W/src --store $OUT/s.db -o $OUT/site-x --min-valid 2 2> $OUT/u.err; rc=$?
ok "[ $rc -eq 2 ]" "--min-valid 2: usage error ($rc)"
"$GF" publish $W/nowhere --store $OUT/s.db -o $OUT/site-x 2> $OUT/u2.err; rc=$?
ok "[ $rc -eq 2 ] && grep -q nowhere $OUT/u2.err" "a missing source: exit 2 naming it ($rc)"
"$GF" publish $W/src --store $OUT/s.db -o $OUT/site-x --at 2026-13-45 2> $OUT/u3.err; rc=$?
ok "[ $rc -eq 2 ]" "--at 2026-13-45: usage error ($rc)"
# a second run on a store in use is refused
python3 -c "import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE'); open(sys.argv[2], 'w').close(); time.sleep(5)" $W/store.db $OUT/locked &
PY=$!
for i in $(seq 100); do [ -f $OUT/locked ] && break; sleep 0.1; done
(cd $W && "$GF" publish src --store store.db -o site --at 2026-12-04 2> $OUT/busy.err); rc=$?
wait $PY
ok "[ $rc -eq 3 ] && grep -q 'in use by another' $OUT/busy.err" "a store in use: refused with a clear message (rc $rc: $(cat $OUT/busy.err))"
gf_test_end
