#!/usr/bin/env bash
# geoflux diff OLD NEW: a NEW file is made here from a real BAL (Bruz,
# 5,843 addresses) with known changes, and the diff must count exactly
# them: 10 street names changed (modified, field voie_nom), 5 positions
# moved by ~7 m (moved), 2 moved by less than a centimetre (unchanged),
# 10 rows deleted (removed), 3 added, one cle_interop in upper case and
# one date written DD/MM/YYYY (same values: unchanged). The CSV is read
# back with Python's csv module, the GeoJSON with GDAL (ogrinfo); exit
# codes 0 (same), 1 (differ), 2 (usage, unreadable input, existing output).
# Usage: diff.sh GEOFLUX SRCDIR OUTDIR
. "$(dirname "$0")/lib.sh" "$@"
command -v python3 >/dev/null || { echo "SKIPPED: python3 missing"; exit 77; }
OLD=$SRC/data/samples/bal/bal_35047_v1.3.csv

python3 - "$OLD" "$OUT/new.csv" <<'PY'
import sys
src, dst = sys.argv[1], sys.argv[2]
lines = open(src, encoding="utf-8-sig").read().splitlines()
h = lines[0].split(";"); ix = {n: i for i, n in enumerate(h)}
rows = [l.split(";") for l in lines[1:]]
for r in rows[10:20]: r[ix["voie_nom"]] += " Prolongée"
for r in rows[20:25]: r[ix["long"]] = "%.10f" % (float(r[ix["long"]]) + 0.0001)
for r in rows[25:27]: r[ix["long"]] = "%.10f" % (float(r[ix["long"]]) + 0.0000001)
rows[50][ix["cle_interop"]] = rows[50][ix["cle_interop"]].upper()
y, m, d = rows[60][ix["date_der_maj"]].split("-"); rows[60][ix["date_der_maj"]] = "%s/%s/%s" % (d, m, y)
added = []
for k in range(3):
    r = list(rows[40]); r[ix["numero"]] = str(9001 + k)
    r[ix["cle_interop"]] = r[ix["cle_interop"]].rsplit("_", 1)[0] + "_%05d" % (9001 + k)
    r[ix["uid_adresse"]] = ""
    added.append(r)
rows = rows[:30] + rows[40:] + added
open(dst, "w", encoding="utf-8").write("\n".join([";".join(h)] + [";".join(r) for r in rows]) + "\n")
PY

# 1. the same file: no change, exit 0
"$GF" diff "$OLD" "$OLD" -o "$OUT/same.csv" -q; rc=$?
ok "[ $rc -eq 0 ]" "same file: exit $rc, expected 0"
ok "[ \$(wc -l < $OUT/same.csv) -eq 1 ]" "same file: header only"

# 2. the known changes, exit 1, counts exact
"$GF" diff "$OLD" "$OUT/new.csv" -o "$OUT/d.csv" --summary json -j 2 > "$OUT/d.json" 2>"$OUT/d.err"; rc=$?
ok "[ $rc -eq 1 ]" "files differ: exit $rc, expected 1: $(cat "$OUT/d.err")"
for kv in '"added":3' '"removed":10' '"modified":10' '"moved":5' '"unchanged":5818' '"key":"cle_interop"' \
          '"old_addresses":5843' '"new_addresses":5836'; do
  ok "grep -q '$kv' $OUT/d.json" "summary has $kv: $(cat "$OUT/d.json")"
done
python3 - "$OUT/d.csv" > "$OUT/d.check" <<'PY'
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8"), delimiter=";"))
c = collections.Counter(r["change"] for r in rows)
bad = []
if dict(c) != {"added": 3, "removed": 10, "modified": 10, "moved": 5}: bad.append("counts %s" % dict(c))
for r in rows:
    if r["change"] == "modified" and r["fields"] != "voie_nom": bad.append("modified fields %r" % r["fields"])
    if r["change"] == "modified" and not r["voie_nom"].endswith("Prolongée"): bad.append("new name %r" % r["voie_nom"])
    if r["change"] == "moved" and not (6 < float(r["distance_m"]) < 9): bad.append("distance %s" % r["distance_m"])
    if r["change"] == "added" and not r["numero"].startswith("900"): bad.append("added %r" % r["numero"])
    if r["change"] == "removed" and r["new_lon"] != "": bad.append("removed has a new position")
print("; ".join(bad) if bad else "ok")
PY
ok "[ \"\$(cat $OUT/d.check)\" = ok ]" "CSV read back by Python: $(cat "$OUT/d.check")"
"$GF" diff "$OLD" "$OUT/new.csv" -o "$OUT/d1.csv" -q -j 1
ok "cmp -s $OUT/d.csv $OUT/d1.csv" "same bytes with -j 1 and -j 2"

# 3. GeoJSON, read by GDAL
"$GF" diff "$OLD" "$OUT/new.csv" -o "$OUT/d.geojson" -q; rc=$?
ok "[ $rc -eq 1 ]" "GeoJSON diff: exit $rc"
if command -v ogrinfo >/dev/null; then
  ok "ogrinfo -ro -so -al $OUT/d.geojson 2>/dev/null | grep -q 'Feature Count: 28'" "GDAL reads 28 changes: $(ogrinfo -ro -so -al "$OUT/d.geojson" 2>&1 | grep -i 'count\|error')"
  ok "ogrinfo -ro -al $OUT/d.geojson -where \"change = 'moved'\" 2>/dev/null | grep -q 'distance_m (Real) = [6-8]\\.'" "GDAL sees typed distance_m of a moved address"
else
  echo "ogrinfo missing: the GeoJSON is not read back (SKIPPED part)"
fi

# 4. refusals
"$GF" diff "$OLD" "$OUT/new.csv" -o "$OUT/d.csv" -q 2>"$OUT/e1"; rc=$?
ok "[ $rc -eq 2 ] && grep -q 'overwrite' $OUT/e1" "an existing output is not replaced without --overwrite (rc $rc): $(cat "$OUT/e1")"
"$GF" diff "$OLD" "$OUT/missing.csv" -o "$OUT/m.csv" -q 2>"$OUT/e2"; rc=$?
ok "[ $rc -eq 2 ] && grep -q 'missing.csv' $OUT/e2 && [ ! -e $OUT/m.csv ]" "missing input: exit 2 naming it (rc $rc)"
"$GF" diff "$OLD" "$SRC/data/samples/boundaries/communes-81-tarn.geojson" -o "$OUT/g.csv" -q 2>"$OUT/e3"; rc=$?
ok "[ $rc -eq 2 ] && [ ! -e $OUT/g.csv ]" "not an address file: exit 2 (rc $rc): $(cat "$OUT/e3")"
"$GF" diff "$OLD" -o "$OUT/x.csv" -q 2>/dev/null; rc=$?
ok "[ $rc -eq 2 ]" "one file only: usage error (rc $rc)"
"$GF" diff "$OLD" "$OUT/new.csv" -o "$OUT/x.txt" -q 2>/dev/null; rc=$?
ok "[ $rc -eq 2 ] && [ ! -e $OUT/x.txt ]" "unknown output extension refused (rc $rc)"
"$GF" diff "$OLD" "$OUT/new.csv" -o "$OUT/x.csv" --move -1 -q 2>/dev/null; rc=$?
ok "[ $rc -eq 2 ]" "negative --move refused (rc $rc)"
"$GF" diff "$OLD" "$OUT/new.csv" -o "$OLD" -q --overwrite 2>/dev/null; rc=$?
ok "[ $rc -eq 2 ] && cmp -s $OLD $SRC/data/samples/bal/bal_35047_v1.3.csv" "the output may not be an input (rc $rc)"

gf_test_end
