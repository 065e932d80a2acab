#!/usr/bin/env bash
# The shapes of `geoflux serve`'s answers against the Géoplateforme's,
# recorded in tests/parity/gpf/ from its public documentation and sources
# (see the README there): member names and JSON types of /search, /reverse,
# /completion, /getCapabilities and a 400; the order of /search/csv's and
# /reverse/csv's result columns. Values are not compared.
# Usage: serve_parity.sh GEOFLUX SRCDIR OUTDIR
. "$(dirname "$0")/lib.sh" "$@"
command -v curl >/dev/null || { echo "SKIPPED: curl missing"; exit 77; }
G=$SRC/tests/parity/gpf
S=$SRC/data/samples
cmp_shape() { /usr/bin/python3 "$G/compare.py" "$@"; }

"$GF" index build "$S/bal/bal_35047_v1.3.csv" --postcodes "$S/reference/laposte-codes-postaux.csv.gz" -o "$OUT/bruz.idx" -q
"$GF" serve --index "$OUT/bruz.idx" --port 0 -q >"$OUT/s.out" 2>"$OUT/s.err" &
PID=$!
trap 'kill -9 $PID 2>/dev/null' EXIT
for _ in $(seq 1 300); do grep -q 'serving on' "$OUT/s.out" 2>/dev/null && break; sleep 0.1; done
B=$(sed -n 's|^geoflux: serving on \(http://[^ ]*\)/$|\1|p' "$OUT/s.out")
ok '[ -n "$B" ]' "server started"

# the properties the service always gives a housenumber result (issue 17's list)
REQ=label,score,housenumber,id,name,postcode,citycode,x,y,city,context,type,importance,street,_type
# ours alone: the former commune of the address (the CSV's result_oldcity / result_oldcitycode)
EXTRA=oldcity,oldcitycode
curl -s "$B/search?q=1+rue+des+acacias+bruz&limit=3" >"$OUT/search.json"
ok 'cmp_shape "$G/search.json" "$OUT/search.json" --required $REQ --extra $EXTRA' "/search: names and types of the Géoplateforme's GeoCodeJSON"
curl -s "$B/reverse?lon=-1.745464&lat=48.028382&limit=3" >"$OUT/reverse.json"
ok 'cmp_shape "$G/reverse.json" "$OUT/reverse.json" --required $REQ,distance --extra $EXTRA' "/reverse: the same, with distance"
curl -s "$B/completion?text=1+rue+des+acacias&maximumResponses=3" >"$OUT/completion.json"
ok 'cmp_shape "$G/completion.json" "$OUT/completion.json" --required country,city,x,y,zipcode,street,classification,kind,fulltext,metropole --extra oldcity' "/completion: names and types of the service's results"
curl -s "$B/getCapabilities" >"$OUT/caps.json"
ok 'cmp_shape "$G/getCapabilities.json" "$OUT/caps.json"' "/getCapabilities: names and types"
curl -s "$B/search?q=ab" >"$OUT/err.json"
ok 'cmp_shape "$G/error400.json" "$OUT/err.json"' "a 400: {code, message, detail}"
# a check that can fail: a renamed member or a changed type is caught
printf '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[0,0]},"properties":{"label":"x","score":"1","zip":"35170"}}]}' >"$OUT/bad.json"
ok '! cmp_shape "$G/search.json" "$OUT/bad.json" --required label >"$OUT/bad.txt" && grep -q "score: string" "$OUT/bad.txt" && grep -q "zip: not in" "$OUT/bad.txt"' "the comparison catches a renamed member and a changed type"

# /search/csv and /reverse/csv: the service's result columns, in its order
# (ours may add columns between them: listed in the README)
printf 'adresse\n1 rue des acacias bruz\n' >"$OUT/in.csv"
curl -s -F data=@"$OUT/in.csv" -F columns=adresse "$B/search/csv" | head -1 | tr -d '\r' >"$OUT/search_header.txt"
printf 'lat,lon\n48.028382,-1.745464\n' >"$OUT/rin.csv"
curl -s -F data=@"$OUT/rin.csv" "$B/reverse/csv" | head -1 | tr -d '\r' >"$OUT/reverse_header.txt"
order() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import sys
want = [l.strip() for l in open(sys.argv[1]) if l.strip()]
got = open(sys.argv[2]).read().strip().split(",")
extra = set(sys.argv[3].split(",")) if sys.argv[3] else set()
res = [c for c in got if c.startswith("result_") or c in ("latitude", "longitude")]
ours = [c for c in res if c not in extra]
if ours != want:
    print("got", ours, "want", want); sys.exit(1)
PY
}
ok 'order "$G/search_csv_columns.txt" "$OUT/search_header.txt" result_importance,result_x,result_y' "/search/csv: the Géoplateforme's result columns in its order ($(cat "$OUT/search_header.txt"))"
ok 'order "$G/reverse_csv_columns.txt" "$OUT/reverse_header.txt" result_importance,result_x,result_y' "/reverse/csv: the same ($(cat "$OUT/reverse_header.txt"))"

kill -TERM $PID; wait $PID
gf_test_end
