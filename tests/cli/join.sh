#!/usr/bin/env bash
# geoflux convert --communes: the real Bruz BAL (35047) against the Ille-et-Vilaine
# boundaries, with a wrong commune_insee injected on three rows that must come out
# as `mismatch` (and nothing else may change); the --stats GeoJSON re-read by GDAL
# (ogrinfo) must agree with the rows; output and statistics must not depend on the
# thread count; bad arguments fail cleanly.
# usage: bash join.sh GEOFLUX SRCDIR OUTDIR
set -euo pipefail
GF=$1 SRC=$2 OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
PY=/usr/bin/python3
B35=$SRC/data/samples/boundaries/communes-35-ille-et-vilaine.geojson
B31=$SRC/data/samples/boundaries/communes-31-haute-garonne.geojson
BAL=$SRC/data/samples/bal/bal_35047_v1.3.csv
fail() { echo "FAIL: $*" >&2; exit 1; }

"$GF" convert "$BAL" -o "$OUT/base.geojsonl" --communes "$B35" -q --keep-invalid -j 1
# lines 101, 2001, 4001 declare Rennes (35238) instead of Bruz
awk 'BEGIN{FS=OFS=";"} NR==101||NR==2001||NR==4001 {$3="35238"} {print}' "$BAL" > "$OUT/injected.csv"
"$GF" convert "$OUT/injected.csv" -o "$OUT/inj.geojsonl" --communes "$B35" --stats "$OUT/stats.geojson" \
  -q --keep-invalid -j 2
"$GF" convert "$OUT/injected.csv" -o "$OUT/inj1.geojsonl" --communes "$B35" --stats "$OUT/stats1.csv" \
  -q --keep-invalid -j 1
"$GF" convert "$OUT/injected.csv" -o "$OUT/inj2.geojsonl" --communes "$B35" --stats "$OUT/stats2.csv" \
  -q --keep-invalid -j 2
cmp "$OUT/inj1.geojsonl" "$OUT/inj2.geojsonl" || fail "output depends on the thread count"
cmp "$OUT/stats1.csv" "$OUT/stats2.csv" || fail "statistics depend on the thread count"

ogrinfo -ro -al -q "$OUT/stats.geojson" > "$OUT/stats.txt" || fail "ogrinfo cannot read the --stats GeoJSON"

$PY - "$OUT" "$BAL" <<'EOF' || fail "see above"
import json, sys, re, collections
out, bal = sys.argv[1], sys.argv[2]
def rows(p):
    return [json.loads(l)["properties"] for l in open(p, encoding="utf-8")]
base, inj = rows(out + "/base.geojsonl"), rows(out + "/inj.geojsonl")
nin = sum(1 for _ in open(bal, encoding="utf-8-sig")) - 1
assert len(base) == nin and len(inj) == nin, ("rows lost", len(base), len(inj), nin)
bad = 0
changed = [i for i in range(nin) if (base[i]["join_status"], base[i].get("commune_geo")) != (inj[i]["join_status"], inj[i].get("commune_geo"))]
injected = [i for i in range(nin) if inj[i]["commune_insee"] == "35238"]
if len(injected) != 3: print("expected 3 injected rows, got", len(injected)); bad += 1
for i in injected:
    p = inj[i]
    if base[i]["join_status"] != "match" or p["join_status"] != "mismatch" or p.get("commune_geo") != "35047" \
       or p.get("commune_geo_nom") != "Bruz" or p.get("join_distance_m") != 0:
        print("injected row", i, "base", base[i]["join_status"], "now", p["join_status"], p.get("commune_geo")); bad += 1
if sorted(changed) != sorted(injected): print("rows changed:", changed, "injected:", injected); bad += 1
# record order kept
if [r.get("uid_adresse") for r in base] != [r.get("uid_adresse") for r in inj]: print("order changed"); bad += 1
st = collections.Counter(r["join_status"] for r in inj)
print("join_status:", dict(st))
if st["match"] < 5500: print("too few matches"); bad += 1
for r in inj:
    s = r["join_status"]
    if s in ("match", "mismatch") and r.get("join_distance_m") != 0: bad += 1
    if s == "mismatch" and r.get("commune_geo") == r.get("commune_insee"): bad += 1
    if s == "match" and r.get("commune_geo") != r.get("commune_insee"): bad += 1
# statistics as GDAL reads them agree with the rows
addr = collections.Counter(r.get("commune_geo") for r in inj if r.get("commune_geo"))
mism = collections.Counter(r.get("commune_geo") for r in inj if r["join_status"] == "mismatch")
streets = collections.defaultdict(set)
for r in inj:
    if r.get("commune_geo") and r.get("voie_nom"): streets[r["commune_geo"]].add(r["voie_nom"])
feats = re.split(r"\nOGRFeature\(communes\):\d+\n", open(out + "/stats.txt", encoding="utf-8").read())[1:]
if len(feats) != 345: print("stats features:", len(feats)); bad += 1
seen = 0
for f in feats:
    v = dict(re.findall(r"^  (\w+) \(\w+\) = (.*)$", f, re.M))
    c = v["code"]
    if int(v["addresses"]) != addr.get(c, 0) or int(v["mismatches"]) != mism.get(c, 0) or int(v["streets"]) != len(streets.get(c, ())):
        print("stats of", c, v, "rows say", addr.get(c, 0), mism.get(c, 0), len(streets.get(c, ()))); bad += 1
    if "MULTIPOLYGON" not in f: print("no polygon for", c); bad += 1
    seen += addr.get(c, 0) > 0
if seen < 2: bad += 1
csv = open(out + "/stats1.csv", encoding="utf-8").read().splitlines()
if csv[0] != "code,nom,addresses,certified,certified_share,mismatches,outside,no_position,streets" or len(csv) != 346:
    print("csv header/rows", csv[0], len(csv)); bad += 1
bruz = [l for l in csv if l.startswith("35047,")]
if not bruz or int(bruz[0].split(",")[5]) != 3: print("Bruz csv row", bruz); bad += 1
sys.exit(1 if bad else 0)
EOF

# Escoulis (31591) rows against the Haute-Garonne boundaries: all match; a Lambert-93 output
"$GF" convert "$SRC/data/samples/bal/bal-valid.csv" -o "$OUT/esc.geojson" --communes "$B31" -q --t-srs EPSG:2154 \
  --stats "$OUT/esc-stats.geojson"
n=$(grep -c '"commune_geo":"31591","commune_geo_nom":"Escoulis","join_status":"match"' "$OUT/esc.geojson")
[ "$n" = 6 ] || fail "Escoulis: $n of 6 rows matched"
grep -q '"name": "urn:ogc:def:crs:EPSG::2154"' "$OUT/esc-stats.geojson" || fail "stats not in the output CRS"
ogrinfo -ro -al -q "$OUT/esc-stats.geojson" -where "code='31591'" | grep -q "addresses (Integer.*) = 6" || fail "Escoulis stats"

# the same boundaries as a Lambert-93 Shapefile with IGN field names, and as a GeoPackage
ogr2ogr -f "ESRI Shapefile" "$OUT/b31.shp" "$B31" -t_srs EPSG:2154 -nln b31 \
  -sql 'SELECT code AS INSEE_COM, nom AS NOM_COM FROM "communes-31-haute-garonne"' 2>/dev/null
ogr2ogr -f GPKG "$OUT/b31.gpkg" "$B31" -nln communes 2>/dev/null
for b in "$OUT/b31.shp" "$OUT/b31.gpkg"; do
  "$GF" convert "$SRC/data/samples/bal/bal-valid.csv" -o "$OUT/esc2.geojsonl" --communes "$b" -q --overwrite
  n=$(grep -c '"commune_geo":"31591","commune_geo_nom":"Escoulis","join_status":"match"' "$OUT/esc2.geojsonl")
  [ "$n" = 6 ] || fail "Escoulis with $b: $n of 6 rows matched"
done
"$GF" convert "$SRC/data/samples/bal/bal-valid.csv" -o "$OUT/esc3.geojsonl" --communes "$OUT/b31.shp" \
  --communes-code-field NOM_COM -q
grep -q '"commune_geo":"Escoulis","commune_geo_nom":"Escoulis","join_status":"mismatch"' "$OUT/esc3.geojsonl" \
  || fail "--communes-code-field not used"

# bad arguments: nothing under the output name
if "$GF" convert "$BAL" -o "$OUT/x.geojsonl" --communes "$OUT/nope.geojson" -q 2>"$OUT/err.txt"; then fail "missing boundaries accepted"; fi
grep -q "nope.geojson" "$OUT/err.txt" || fail "error does not name the file"
if "$GF" convert "$BAL" -o "$OUT/x.geojsonl" --communes "$B35" --stats "$OUT/s.txt" -q 2>/dev/null; then fail "--stats .txt accepted"; fi
if "$GF" convert "$BAL" -o "$OUT/x.geojsonl" --communes "$B35" --communes-code-field NOPE -q 2>/dev/null; then fail "bad code field accepted"; fi
[ ! -e "$OUT/x.geojsonl" ] || fail "output left behind after a failure"
# a boundary vertex at 1e300 (issue 12 item 16): that feature is named and
# skipped with the reason, the rest of the join is unchanged
$PY - "$B35" "$OUT/huge.geojson" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
for i, f in enumerate(d["features"]):
    if str(f["properties"].get("code")) == "35066":
        g = f["geometry"]
        ring = g["coordinates"][0] if g["type"] == "Polygon" else g["coordinates"][0][0]
        ring[1] = [1e300, ring[1][1]]
json.dump(d, open(sys.argv[2], "w"))
PYEOF
"$GF" convert "$BAL" -o "$OUT/huge.geojsonl" --communes "$OUT/huge.geojson" -j 1 2> "$OUT/huge.err" || fail "a 1e300 vertex failed the run"
grep -q "warning: .*huge.geojson: feature [0-9]* (35066) skipped: a vertex lies outside" "$OUT/huge.err" || fail "the unusable feature is not named: $(cat "$OUT/huge.err")"
n_base=$(grep -c '"commune_geo":"35047","commune_geo_nom":"Bruz","join_status":"match"' "$OUT/base.geojsonl")
n_huge=$(grep -c '"commune_geo":"35047","commune_geo_nom":"Bruz","join_status":"match"' "$OUT/huge.geojsonl")
[ "$n_base" = "$n_huge" ] || fail "Bruz matches changed with a broken neighbour: $n_base vs $n_huge"
! grep -q '"commune_geo":"35066"' "$OUT/huge.geojsonl" || fail "the broken commune is still joined"
echo "join: ok"
