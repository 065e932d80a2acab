#!/usr/bin/env bash
# End-to-end tests of `geoflux serve` with curl: the geocoding API on the
# Bruz BAL (a known address first, scores in [0,1], the same answer as the
# CSV geocoder, the Géoplateforme's 400 answers), /reverse's distance, tiles
# from PMTiles and MBTiles (200/204, the same bytes), the archive with Range
# (206/416), static files with traversal refused, garbage and oversized
# requests answered 4xx while the server keeps answering, SIGTERM exiting 0.
# Usage: serve.sh GEOFLUX SRCDIR OUTDIR
. "$(dirname "$0")/lib.sh" "$@"
command -v curl >/dev/null || { echo "SKIPPED: curl missing"; exit 77; }
# room for 1,000 connections at once (the server inherits it: its connection
# limit is half the descriptors it may open, see gf_serve_opts.max_connections)
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
S=$SRC/data/samples
BAL=$S/bal/bal_35047_v1.3.csv
py() { /usr/bin/python3 -c "$1"; }
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done' EXIT

# Starts the server in the background with the given arguments; sets PID
# and B (its base URL) once it has printed its address.
start() {
  local log=$1; shift
  "$GF" serve --port 0 "$@" >"$log.out" 2>"$log.err" &
  PID=$!; pids+=("$PID")
  for _ in $(seq 1 600); do
    grep -q 'serving on' "$log.out" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  B=$(sed -n 's|^geoflux: serving on \(http://[^ ]*\)/$|\1|p' "$log.out")
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

"$GF" tiles "$BAL" -o "$OUT/bruz.pmtiles" -q && "$GF" tiles "$BAL" -o "$OUT/bruzmb.mbtiles" -q
"$GF" index build "$BAL" --postcodes "$S/reference/laposte-codes-postaux.csv.gz" -o "$OUT/bruz.idx" -q
ok '[ -s "$OUT/bruz.pmtiles" ] && [ -s "$OUT/bruzmb.mbtiles" ] && [ -s "$OUT/bruz.idx" ]' "archives and index written"
# a SITE-like directory: a file, a hidden file, a symlink leading out
mkdir -p "$OUT/site/sub" "$OUT/outside"
echo '<p>hello</p>' >"$OUT/site/index.html"; echo 'a,b' >"$OUT/site/sub/t.csv"
echo secret >"$OUT/outside/secret.txt"; echo hidden >"$OUT/site/.env"
ln -sf "$OUT/outside/secret.txt" "$OUT/site/link.txt"; ln -sfn "$OUT/outside" "$OUT/site/out"

"$GF" serve --help >"$OUT/help.txt"; rc=$?
ok '[ $rc -eq 0 ] && grep -q "/search" "$OUT/help.txt"' "serve --help"
"$GF" serve --port 99999 "$OUT/bruz.pmtiles" 2>/dev/null; rc=$?
ok '[ $rc -eq 2 ]' "bad --port: usage error"
"$GF" serve 2>/dev/null; rc=$?
ok '[ $rc -eq 2 ]' "nothing to serve: usage error"

mkdir -p "$OUT/tmp"
start "$OUT/s1" "$OUT/site" "$OUT/bruz.pmtiles" "$OUT/bruzmb.mbtiles" --index "$OUT/bruz.idx" -j 2 --max-upload 1 --tmpdir "$OUT/tmp"
ok '[ -n "$B" ]' "server started on a free port"
[ -n "$B" ] || { cat "$OUT/s1.err" >&2; gf_test_end; exit 1; }

# the port taken: exit 3 saying why; a bind address that is not one: exit 2
"$GF" serve "$OUT/bruz.pmtiles" --port "${B##*:}" -q 2>"$OUT/busy.err"; rc=$?
ok '[ $rc -eq 3 ] && grep -q "Address already in use" "$OUT/busy.err"' "port in use: exit 3"
"$GF" serve "$OUT/bruz.pmtiles" --bind localhost -q 2>/dev/null; rc=$?
ok '[ $rc -eq 2 ]' "--bind takes an address, not a name: exit 2"

# --- /search ---------------------------------------------------------------
curl -s "$B/search?q=1+rue+des+acacias+35170+bruz&limit=5" >"$OUT/search.json"
ok 'py "
import json,sys
d=json.load(open(\"$OUT/search.json\"))
assert d[\"type\"]==\"FeatureCollection\"
f=d[\"features\"]; assert f
p=f[0][\"properties\"]
assert p[\"id\"]==\"35047_0001_00001\" and p[\"housenumber\"]==\"1\" and p[\"type\"]==\"housenumber\", p
assert p[\"citycode\"]==\"35047\" and p[\"city\"]==\"Bruz\" and p[\"context\"].startswith(\"35, \")
for x in f: assert 0<=x[\"properties\"][\"score\"]<=1
for k in (\"label\",\"score\",\"housenumber\",\"id\",\"name\",\"citycode\",\"x\",\"y\",\"city\",\"context\",\"type\",\"importance\",\"street\"): assert k in p, k
lon,lat=f[0][\"geometry\"][\"coordinates\"]; assert abs(lon+1.74546)<1e-4 and abs(lat-48.02828)<1e-4
"' "/search: the known address first, GeoCodeJSON properties, scores in [0,1]"
# a typo and words in another order still find the street
curl -s "$B/search?q=2+rue+des+acacas+bruz" >"$OUT/search2.json"
ok 'py "
import json; p=json.load(open(\"$OUT/search2.json\"))[\"features\"][0][\"properties\"]
assert p[\"street\"]==\"Rue des Acacias\" and p[\"housenumber\"]==\"2\" and 0<=p[\"score\"]<=1, p"' "/search: a typo in the street name"
# one matching path: the CSV geocoder gives the same label, score and x/y
printf 'q\n1 rue des acacias 35170 bruz\n2 rue des acacas bruz\n' >"$OUT/q.csv"
"$GF" geocode --index "$OUT/bruz.idx" "$OUT/q.csv" -o "$OUT/q_out.csv" -q
ok 'py "
import csv,json
rows=list(csv.DictReader(open(\"$OUT/q_out.csv\")))
for r,f in zip(rows,(\"$OUT/search.json\",\"$OUT/search2.json\")):
    p=json.load(open(f))[\"features\"][0][\"properties\"]
    assert r[\"result_label\"]==p[\"label\"] and abs(float(r[\"result_score\"])-p[\"score\"])<1e-4, (r,p)
    assert abs(float(r[\"result_x\"])-p[\"x\"])<0.02 and abs(float(r[\"result_y\"])-p[\"y\"])<0.02, (r,p)
"' "/search answers what geoflux geocode's CSV says (label, score, x, y)"
ok '[ "$(curl -s "$B/search?q=rue+des+acacias+bruz&type=street" | py "import json,sys; p=json.load(sys.stdin)[\"features\"][0][\"properties\"]; print(p[\"type\"], p[\"id\"])")" = "street 35047_0001" ]' "/search type=street: the street, its id as the national service's (cle_interop up to the number)"
ok '[ "$(curl -s "$B/search?q=35170" | py "import json,sys; p=json.load(sys.stdin)[\"features\"][0][\"properties\"]; print(p[\"type\"], p[\"citycode\"], p[\"postcode\"])")" = "municipality 35047 35170" ] && [ "$(curl -s "$B/search?q=35170&type=street" | py "import json,sys; print(len(json.load(sys.stdin)[\"features\"]))")" = 0 ]' "/search q=a postcode alone: its commune (no house number 35170)"
ok '[ "$(curl -s "$B/search?q=2+rue+des+acacias&autocomplete=0" | py "import json,sys; f=json.load(sys.stdin)[\"features\"]; print(f[0][\"properties\"][\"id\"] if f else \"-\")")" = 35047_0001_00002 ]' "/search autocomplete=0 naming no commune: the street's whole name anywhere"
ok '[ "$(curl -s "$B/search?q=2+rue+des+acacias+lyon&autocomplete=0" | py "import json,sys; p=json.load(sys.stdin)[\"features\"][0][\"properties\"]; print(p[\"type\"], p[\"citycode\"])")" = "municipality 69123" ] && [ "$(curl -s "$B/search?q=2+rue+des+acacias&postcode=69003&autocomplete=0" | py "import json,sys; p=json.load(sys.stdin)[\"features\"][0][\"properties\"]; print(p[\"type\"], p[\"citycode\"])")" = "municipality 69383" ] && [ "$(curl -s "$B/search?q=2+rue+des+acaci&autocomplete=0" | py "import json,sys; print(len(json.load(sys.stdin)[\"features\"]))")" = 0 ]' "/search autocomplete=0: a commune named (Lyon, 69003) is not looked past for Bruz's street, an unfinished word is not completed"

# --- 400 answers ------------------------------------------------------------
for q in "q=ab" "q=%2Fabc" "q=rue+des+acacias&type=house" "q=rue+des+acacias&limit=0" "q=rue+des+acacias&limit=21" \
         "q=rue+des+acacias&limit=abc" "q=rue+des+acacias&lat=48.1" "q=rue+des+acacias&lat=91&lon=2" \
         "q=rue+des+acacias&postcode=3517" "q=rue+des+acacias&citycode=ABCDE" "q=rue+des+acacias&index=poi" \
         "limit=3" "q=rue+des+acacias&autocomplete=maybe"; do
  c=$(curl -s -o "$OUT/err.json" -w '%{http_code}' "$B/search?$q")
  ok '[ "$c" = 400 ] && py "
import json; d=json.load(open(\"$OUT/err.json\")); assert d[\"code\"]==400 and d[\"message\"] and d[\"detail\"], d"' "/search?$q: 400 with a JSON message"
done
ok '[ "$(code "$B/reverse?lon=-1.7")" = 400 ] && [ "$(code "$B/reverse")" = 400 ] && [ "$(code "$B/completion?text=a")" = 400 ]' "/reverse and /completion: 400 on bad parameters"

# --- /reverse, /completion, capabilities -----------------------------------
# 1 Rue des Acacias is at (-1.745464, 48.028282): ask about 11 m north of it
curl -s "$B/reverse?lon=-1.745464&lat=48.028382" >"$OUT/rev.json"
ok 'py "
import json; f=json.load(open(\"$OUT/rev.json\"))[\"features\"]; p=f[0][\"properties\"]
assert p[\"id\"]==\"35047_0001_00001\" and 5<=p[\"distance\"]<=20, p"' "/reverse: the nearest address, distance in metres"
# limit: that many, nearest first, each with its distance; the default is the service's 5
curl -s "$B/reverse?lon=-1.745464&lat=48.028382&limit=12" >"$OUT/rev12.json"
curl -s "$B/reverse?lon=-1.745464&lat=48.028382&limit=12" >"$OUT/rev12b.json"
ok 'cmp -s "$OUT/rev12.json" "$OUT/rev12b.json" && py "
import json
f=json.load(open(\"$OUT/rev12.json\"))[\"features\"]; d=[x[\"properties\"][\"distance\"] for x in f]
assert len(f)==12 and d==sorted(d) and f[0][\"properties\"][\"id\"]==\"35047_0001_00001\", d
ids=[x[\"properties\"][\"id\"] for x in f]; assert len(set(ids))==12, ids
assert all(x<=500 for x in d), d
d5=json.load(open(\"$OUT/rev.json\"))[\"features\"]; assert [x[\"properties\"][\"id\"] for x in d5]==ids[:5], d5
"' "/reverse?limit=12: the 12 nearest, sorted by distance, the same twice; default 5"
curl -s "$B/reverse?lon=-1.745464&lat=48.028382&limit=3&type=street" >"$OUT/revst.json"
curl -s "$B/reverse?lon=-1.745464&lat=48.028382&limit=3&type=municipality" >"$OUT/revmu.json"
ok 'py "
import json
f=json.load(open(\"$OUT/revst.json\"))[\"features\"]; p=[x[\"properties\"] for x in f]
assert 1<=len(p)<=3 and all(x[\"type\"]==\"street\" for x in p) and p[0][\"name\"]==\"Rue des Acacias\", p
assert len(set(x[\"name\"] for x in p))==len(p) and [x[\"distance\"] for x in p]==sorted(x[\"distance\"] for x in p), p
m=[x[\"properties\"] for x in json.load(open(\"$OUT/revmu.json\"))[\"features\"]]
assert len(m)==1 and m[0][\"type\"]==\"municipality\" and m[0][\"citycode\"]==\"35047\", m
"' "/reverse type=street: distinct streets, nearest first; type=municipality: the commune once"
ok '[ "$(curl -s "$B/reverse?lon=2.35&lat=48.85&limit=5" | py "import json,sys; print(len(json.load(sys.stdin)[\"features\"]))")" = 0 ] && [ "$(code "$B/reverse?lon=-1.7&lat=48&limit=21")" = 400 ]' "/reverse: nothing within 500 m is an empty list; limit over 20: 400"
curl -s "$B/completion?text=rue+des+acacias+bruz&maximumResponses=3" >"$OUT/compl.json"
ok 'py "
import json; d=json.load(open(\"$OUT/compl.json\")); assert d[\"status\"]==\"OK\"; r=d[\"results\"]
assert r and len(r)<=3 and r[0][\"street\"]==\"Rue des Acacias\" and r[0][\"country\"]==\"StreetAddress\", d"' "/completion: results in the service's shape"
ok '[ "$(curl -s "$B/completion?text=rue+des+ac&terr=35,31" | py "import json,sys; print(json.load(sys.stdin)[\"results\"][0][\"street\"])")" = "Rue des Acacias" ] && [ "$(curl -s "$B/completion?text=rue+des+ac&terr=31,METROPOLE" | py "import json,sys; print(len(json.load(sys.stdin)[\"results\"]))")" -ge 1 ] && [ "$(curl -s "$B/completion?text=rue+des+ac&terr=31,DOMTOM" | py "import json,sys; print(len(json.load(sys.stdin)[\"results\"]))")" = 0 ] && [ "$(code "$B/completion?text=rue+des+ac&terr=Bretagne")" = 400 ]' "/completion terr: answers in the territories named only (35 or METROPOLE: Bruz; 31 or DOMTOM: none); an unknown territory is a 400"
ok '[ "$(curl -s "$B/completion?text=rue+des+ac&bbox=-1.8,48.0,-1.7,48.1" | py "import json,sys; print(json.load(sys.stdin)[\"results\"][0][\"street\"])")" = "Rue des Acacias" ] && [ "$(curl -s "$B/completion?text=rue+des+ac&bbox=1.3,43.5,1.5,43.7" | py "import json,sys; print(len(json.load(sys.stdin)[\"results\"]))")" = 0 ] && [ "$(code "$B/completion?text=rue+des+ac&bbox=1,2,3")" = 400 ]' "/completion bbox: answers inside the box only (Bruz: the street; Toulouse: none); a bad box is a 400"
ok '[ "$(curl -s "$B/completion?text=rue+des+ac&type=PositionOfInterest" | py "import json,sys; d=json.load(sys.stdin); print(d[\"status\"], len(d[\"results\"]))")" = "OK 0" ]' "/completion type=PositionOfInterest alone: no answer (the index holds addresses only)"
ok '[ "$(curl -s "$B/search?q=rue+des+acacias&city=Bruz&autocomplete=0" | py "import json,sys; print(json.load(sys.stdin)[\"features\"][0][\"properties\"][\"id\"])")" = 35047_0001 ] && [ "$(curl -s "$B/search?q=rue+des+acacias&city=Lyon&autocomplete=0" | py "import json,sys; print(json.load(sys.stdin)[\"features\"][0][\"properties\"][\"type\"])")" = municipality ]' "/search city: the street looked for in that commune only"
rv() { curl -s "$B/reverse?lon=-1.74&lat=48.02&limit=2&$1" | py "import json,sys; print(len(json.load(sys.stdin)[\"features\"]))"; }
ok '[ "$(rv postcode=35170)" = 2 ] && [ "$(rv postcode=31000)" = 0 ] && [ "$(rv citycode=35047)" = 2 ] && [ "$(rv citycode=35001)" = 0 ] && [ "$(rv city=bruz)" = 2 ] && [ "$(rv city=Rennes)" = 0 ] && [ "$(code "$B/reverse?lon=-1.74&lat=48.02&city=$(printf "x%.0s" $(seq 1 51))")" = 400 ]' "/reverse postcode, citycode, city: its answers in them only"
# prefix matching: the last word being typed completes (the service's autocomplete=1, its default)
ok '[ "$(curl -s "$B/completion?text=8+bd+louis+pa" | py "import json,sys; print(json.load(sys.stdin)[\"results\"][0][\"fulltext\"])")" = "8 Boulevard Louis Pasteur, 35170 Bruz" ]' "/completion: '8 bd louis pa' completes to 8 Boulevard Louis Pasteur"
ok '[ "$(curl -s "$B/search?q=12+allee+des+mes" | py "import json,sys; print(json.load(sys.stdin)[\"features\"][0][\"properties\"][\"label\"])")" = "12 Allée des Mésanges 35170 Bruz" ] && [ "$(curl -s "$B/search?q=12+allee+des+mes&autocomplete=0" | py "import json,sys; print(len(json.load(sys.stdin)[\"features\"]))")" = 0 ]' "/search: autocomplete by default, whole words with autocomplete=0"
ok '( for t in r ru rue+c bd+l a1 z; do [ "$(code "$B/completion?text=$t+x")" = 200 ] || exit 1; done ) && [ "$(code -m 2 "$B/search?q=rue+c")" = 200 ]' "/completion and /search: short prefixes answered"
ok 'curl -s "$B/getCapabilities" | py "import json,sys; d=json.load(sys.stdin); assert d[\"operations\"]"' "/getCapabilities is JSON"
ok 'curl -s "$B/openapi" | py "import json,sys; d=json.load(sys.stdin); assert \"/search\" in d[\"paths\"]"' "/openapi is JSON"

# --- tiles --------------------------------------------------------------------
t=$(py "
import math
lon,lat,z=-1.745464,48.028282,14
n=2**z; x=int((lon+180)/360*n); y=int((1-math.asinh(math.tan(math.radians(lat)))/math.pi)/2*n); print(f'{z}/{x}/{y}')")
curl -s -D "$OUT/tile.h" "$B/tiles/bruz/$t.mvt" -o "$OUT/tile.mvt"
ok 'grep -q "^HTTP/1.1 200" "$OUT/tile.h" && grep -qi "^content-encoding: gzip" "$OUT/tile.h" && gzip -t <"$OUT/tile.mvt"' "a tile: 200, gzip MVT"
curl -s "$B/tiles/bruzmb/$t.mvt" -o "$OUT/tile_mb.mvt"
ok 'cmp -s "$OUT/tile.mvt" "$OUT/tile_mb.mvt"' "the same tile from PMTiles and MBTiles"
ok '[ "$(code "$B/tiles/bruz/14/0/0.mvt")" = 204 ] && [ "$(code "$B/tiles/bruzmb/14/0/0.mvt")" = 204 ]' "no tile there: 204"
ok '[ "$(code "$B/tiles/nope/0/0/0.mvt")" = 404 ] && [ "$(code "$B/tiles/bruz/1/2/0.mvt")" = 404 ] && [ "$(code "$B/tiles/bruz/x/0/0.mvt")" = 404 ]' "unknown tileset or tile outside the grid: 404"
curl -s "$B/tiles/bruz.json" >"$OUT/tj.json"
ok 'py "
import json; d=json.load(open(\"$OUT/tj.json\")); assert d[\"tiles\"][0].endswith(\"/tiles/bruz/{z}/{x}/{y}.mvt\")
assert d[\"vector_layers\"][0][\"id\"]==\"addresses\" and d[\"maxzoom\"]>=14, d"' "TileJSON"

# --- the archive with Range -------------------------------------------------------
size=$(stat -c %s "$OUT/bruz.pmtiles")
curl -s -D "$OUT/r.h" -H 'Range: bytes=100-299' "$B/bruz.pmtiles" -o "$OUT/r.bin"
ok 'grep -q "^HTTP/1.1 206" "$OUT/r.h" && grep -qi "^content-range: bytes 100-299/$size" "$OUT/r.h" && cmp -s "$OUT/r.bin" <(tail -c +101 "$OUT/bruz.pmtiles" | head -c 200)' "Range: 206, Content-Range, the right bytes"
curl -s -H 'Range: bytes=-10' "$B/bruz.pmtiles" -o "$OUT/r2.bin"
ok 'cmp -s "$OUT/r2.bin" <(tail -c 10 "$OUT/bruz.pmtiles")' "suffix Range"
curl -s -D "$OUT/r3.h" -o /dev/null -H "Range: bytes=$size-" "$B/bruz.pmtiles"
ok 'grep -q "^HTTP/1.1 416" "$OUT/r3.h" && grep -qi "^content-range: bytes \*/$size" "$OUT/r3.h"' "unsatisfiable Range: 416"
curl -s "$B/bruz.pmtiles" -o "$OUT/whole.pmtiles"
ok 'cmp -s "$OUT/whole.pmtiles" "$OUT/bruz.pmtiles"' "no Range: the whole archive"

# --- static files and traversal -----------------------------------------------
ok '[ "$(curl -s "$B/sub/t.csv")" = "a,b" ] && curl -s "$B/index.html" | grep -q hello && [ "$(code "$B/")" = 302 ]' "static files, /index.html (/ is the map page)"
ok '[ "$(code --path-as-is "$B/../../../etc/passwd")" = 403 ] && [ "$(code --path-as-is "$B/%2e%2e/%2e%2e/etc/passwd")" = 403 ] && [ "$(code --path-as-is "$B/sub/..%2f..%2fetc/passwd")" = 403 ]' "../ and %2e%2e: 403"
ok '[ "$(code "$B/link.txt")" = 403 ] && [ "$(code "$B/out/secret.txt")" = 403 ] && [ "$(code "$B/.env")" = 403 ]' "symlinks leading out, hidden files: 403"
ok '[ "$(code "$B/missing.html")" = 404 ]' "missing file: 404"

# --- /search/csv and /reverse/csv: the same bytes as geoflux geocode / reverse ---
printf 'adresse,cp,ville\n1 rue des acacias,35170,Bruz\n2 rue des acacas,,Bruz\n"broken\n' >"$OUT/up.csv"
curl -s -D "$OUT/csv.h" -F data=@"$OUT/up.csv" -F columns=adresse -F columns=ville -F postcode=cp "$B/search/csv" -o "$OUT/csv_http.csv"
"$GF" geocode --index "$OUT/bruz.idx" "$OUT/up.csv" --columns adresse,ville --postcode cp -o "$OUT/csv_cli.csv" -q 2>/dev/null
ok 'grep -q "^HTTP/1.1 200" "$OUT/csv.h" && cmp -s "$OUT/csv_http.csv" "$OUT/csv_cli.csv"' "/search/csv: the bytes geoflux geocode writes"
ok 'head -1 "$OUT/csv_http.csv" | grep -q "^adresse,cp,ville,result_index,latitude,longitude,result_label,result_score,result_score_next,result_type,result_id,result_housenumber,result_name,result_street,result_postcode,result_city,result_context,result_citycode,result_oldcitycode,result_oldcity,result_district,result_importance,result_x,result_y,result_status$" && grep -qi "^x-geoflux-rejected: 1" "$OUT/csv.h"' "/search/csv: input columns then the Géoplateforme's result columns; the broken record counted"
ok '[ "$(curl -s -F data=@"$OUT/up.csv" -F columns=adresse -F result_columns=result_label -F result_columns=result_score "$B/search/csv" | head -1)" = "adresse,cp,ville,result_label,result_score" ]' "/search/csv: result_columns"
printf 'lat,lon\n48.028382,-1.745464\n' >"$OUT/rev.csv"
curl -s -F data=@"$OUT/rev.csv" "$B/reverse/csv" -o "$OUT/rev_http.csv"
"$GF" reverse --index "$OUT/bruz.idx" "$OUT/rev.csv" -o "$OUT/rev_cli.csv" -q
ok 'cmp -s "$OUT/rev_http.csv" "$OUT/rev_cli.csv" && grep -q ",11.12,1 Rue des Acacias" "$OUT/rev_http.csv"' "/reverse/csv: the bytes geoflux reverse writes"
ok '[ "$(code -F data=@"$OUT/up.csv" -F columns=nope "$B/search/csv")" = 400 ] && [ "$(code -F columns=adresse "$B/search/csv")" = 400 ] && [ "$(code -X POST "$B/search/csv")" = 400 ] && [ "$(code "$B/search/csv")" = 405 ]' "/search/csv: 400 on a missing column, no data, no form; GET 405"
ok '[ -z "$(ls "$OUT/tmp" | grep -v "^geoflux-map-")" ]' "uploads spooled under --tmpdir and removed (the map page's copy stays while serving)"

# --- hostile requests -------------------------------------------------------------
hp=${B#http://}; host=${hp%:*}; port=${hp##*:}
garbage() { exec 3<>"/dev/tcp/$host/$port" && printf "$1" >&3 && timeout 5 head -c 12 <&3; exec 3<&- 3>&-; }
ok '[[ "$(garbage "GET / HTTP/1.1\r\nNoColonHere\r\n\r\n")" =~ ^HTTP/1\.[01]\ 4 ]]' "malformed header line: 4xx"
ok '[[ "$(garbage "GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n")" =~ ^HTTP/1\.[01]\ 4 ]]' "unknown method: 4xx"
# bytes that are not HTTP at all (a TLS hello, binary): libmicrohttpd closes
# the connection without an answer; what matters is that nothing else breaks
garbage "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xff\x00\r\n\r\n" >/dev/null
garbage "GET /search?q=abc HTTP/9.9\r\n\r\n" >/dev/null
ok '[[ "$(code -H "X-Big: $(head -c 70000 /dev/zero | tr "\0" a)" "$B/getCapabilities")" =~ ^4 ]]' "oversized header: 4xx"
head -c 2000000 /dev/zero >"$OUT/big.bin"
ok '[ "$(code --data-binary @"$OUT/big.bin" "$B/search/csv")" = 413 ]' "body over --max-upload: 413"
ok '[ "$(code -X DELETE "$B/search?q=abc")" = 405 ]' "other methods: 405"
# a slow client (half a request line, then silence) holds one connection, not a thread
exec 4<>"/dev/tcp/$host/$port"; printf 'GET /search?q=ru' >&4
ok '[ "$(code -m 5 "$B/getCapabilities")" = 200 ]' "a slow client does not block the others"
exec 4<&- 4>&-
# many connections at once: every one answered
for i in $(seq 1 400); do echo "url = \"$B/search?q=$i+rue+des+acacias+bruz\""; echo "output = /dev/null"; done >"$OUT/many.cfg"
curl -s --parallel --parallel-max 400 -K "$OUT/many.cfg" 2>/dev/null -w '%{http_code}\n' >"$OUT/many.codes"
ok '[ "$(grep -c "^200$" "$OUT/many.codes")" = 400 ]' "400 parallel connections: all answered 200"
# 1,000 connections held open at once: another client is still answered, then
# each of the 1,000 gets its answer
if [ "$(ulimit -n)" -ge 2200 ]; then
  py "
import selectors, socket, subprocess, sys, time
host, port, n = '$host', $port, 1000
t0, closed = time.time(), {}
socks = [socket.create_connection((host, port), timeout=10) for _ in range(n)]
other = subprocess.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '10', 'http://%s:%d/getCapabilities' % (host, port)],
                       capture_output=True, text=True).stdout
for i, s in enumerate(socks):
    s.sendall(b'GET /search?q=%d+rue+des+acacias+bruz HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' % (i % 40 + 1))
sel = selectors.DefaultSelector()
got = {}
for s in socks:
    s.setblocking(False); sel.register(s, selectors.EVENT_READ); got[s] = b''
left, end = n, time.time() + 90
while left and time.time() < end:
    for k, _ in sel.select(timeout=1):
        s = k.fileobj
        try: d = s.recv(65536)
        except BlockingIOError: continue
        except OSError: d = b''
        if d: got[s] += d
        else: sel.unregister(s); s.close(); left -= 1; closed[s] = time.time() - t0
ok = sum(1 for b in got.values() if b.startswith(b'HTTP/1.1 200') and b.rstrip().endswith(b'}'))
# what the others got, for the log when this fails
for s, b in got.items():
    if not (b.startswith(b'HTTP/1.1 200') and b.rstrip().endswith(b'}')):
        print('%s after %.1f s: %d bytes %r' % ('closed' if s in closed else 'still open', closed.get(s, time.time() - t0), len(b), b[:60]), file=sys.stderr)
print(other, ok)" >"$OUT/c1000.txt" 2>"$OUT/c1000.err"
  ok '[ "$(cat "$OUT/c1000.txt")" = "200 1000" ]' "1,000 connections open at once: another client answered, then all 1,000 (got $(cat "$OUT/c1000.txt"); $(sort "$OUT/c1000.err" | uniq -c | sort -rn | head -3 | tr '\n' ';'))"
else
  echo "SKIPPED: 1,000 parallel connections (ulimit -n is $(ulimit -n), cannot be raised to 2200)"
fi
ok '[ "$(code "$B/search?q=rue+des+acacias")" = 200 ] && kill -0 "$PID"' "the server still answers"

# --- SIGTERM ---------------------------------------------------------------------
kill -TERM "$PID"; wait "$PID"; rc=$?
ok '[ $rc -eq 0 ]' "SIGTERM: exit 0"

# the address base given as files, built at start-up; SIGINT also exits 0
start "$OUT/s2" --addresses "$BAL" -q
ok '[ -n "$B" ] && [ "$(curl -s "$B/search?q=1+rue+des+acacias+bruz" | py "import json,sys; print(json.load(sys.stdin)[\"features\"][0][\"properties\"][\"id\"])")" = 35047_0001_00001 ]' "--addresses: index built at start-up"
# a batch larger than the reader's buffers, every row out in input order
py "
import csv
with open('$OUT/big.csv','w') as f:
    f.write('id,adresse\n')
    for i in range(30000): f.write(f'{i},{1 + i % 40} rue des acacias bruz\n')"
curl -s -F data=@"$OUT/big.csv" -F columns=adresse "$B/search/csv" -o "$OUT/big_out.csv"
ok 'py "
import csv; r=list(csv.DictReader(open(\"$OUT/big_out.csv\")))
assert len(r)==30000 and [int(x[\"id\"]) for x in r]==list(range(30000)) and all(x[\"result_status\"]==\"ok\" for x in r)"' "/search/csv: 30,000 rows out, in order"
# streamed: 100,000 rows. The client reads the first bytes, then stops
# reading for a while: the answer is still being made then (its thread
# alive, held back by the full pipe and socket), the rows come in order
# when it reads on, the server's memory does not grow with the answer
py "
with open('$OUT/huge.csv','w') as f:
    f.write('id,adresse\\n')
    for i in range(100000): f.write(f'{i},{1 + i % 40} rue des acacias bruz\\n')"
hwm() { sed -n 's/^VmHWM: *\([0-9]*\) kB/\1/p' /proc/$PID/status; }
h0=$(hwm); t0=$(ls /proc/$PID/task | wc -l)
HP=${B#http://}
cat > "$OUT/stream_client.py" <<'PY'
import http.client, sys, time, uuid
host, data, state = sys.argv[1:4]
bd = uuid.uuid4().hex
body = (f'--{bd}\r\nContent-Disposition: form-data; name="columns"\r\n\r\nadresse\r\n'
        f'--{bd}\r\nContent-Disposition: form-data; name="data"; filename="huge.csv"\r\n'
        'Content-Type: text/csv\r\n\r\n').encode() + open(data, 'rb').read() + f'\r\n--{bd}--\r\n'.encode()
c = http.client.HTTPConnection(host, timeout=120)
c.request('POST', '/search/csv', body, {'Content-Type': 'multipart/form-data; boundary=' + bd})
r = c.getresponse()
first = r.read(4096)
open(state, 'w').write(f'FIRST {r.status} {r.getheader("Transfer-Encoding")} {r.getheader("Trailer")}\n')
time.sleep(3)
lines = (first + r.read()).decode().splitlines()
ids = [int(l.split(',', 1)[0]) for l in lines[1:]]
open(state, 'a').write(f'ROWS {len(ids)} {ids == list(range(len(ids)))}\n')
PY
/usr/bin/python3 "$OUT/stream_client.py" "$HP" "$OUT/huge.csv" "$OUT/huge.state" &
cpid=$!
for _ in $(seq 1 300); do grep -q FIRST "$OUT/huge.state" 2>/dev/null && break; sleep 0.1; done
sleep 1
t1=$(ls /proc/$PID/task | wc -l)
wait $cpid
h1=$(hwm)
ok 'grep -q "^FIRST 200 chunked X-Geoflux-Rejected" "$OUT/huge.state" && [ "$t1" -gt "$t0" ]' "/search/csv streams: chunked, the rejected count a trailer, the answer still being made once its first bytes are read (threads $t0 -> $t1; $(head -1 "$OUT/huge.state" 2>/dev/null))"
ok 'grep -q "^ROWS 100000 True" "$OUT/huge.state"' "/search/csv streamed: 100,000 rows out, in order ($(tail -1 "$OUT/huge.state" 2>/dev/null))"
if [ -z "${GF_SANITIZED:-}" ]; then
  ok '[ $((h1 - h0)) -lt 20000 ]' "/search/csv streamed: the server's peak memory grew by $(( (h1 - h0) / 1024 )) MB for a $(( $(stat -c %s "$OUT/huge.csv") / 1048576 )) MB upload and a larger answer"
else
  echo "SKIPPED: peak memory of the streamed answer (sanitizers)"
fi
# SIGTERM while a batch is being uploaded (slowly): it is answered in full, then exit 0
head -5001 "$OUT/big.csv" >"$OUT/mid.csv"
curl -s --limit-rate 150k -F data=@"$OUT/mid.csv" -F columns=adresse "$B/search/csv" -o "$OUT/mid_out.csv" &
cpid=$!
sleep 0.4
kill -INT "$PID"; wait "$PID"; rc=$?
wait $cpid
ok '[ $rc -eq 0 ]' "SIGINT: exit 0"
ok '[ "$(wc -l <"$OUT/mid_out.csv")" -eq 5001 ]' "a request in flight at SIGINT is answered in full"

# the map page (a directory as web/install.sh writes it): / points it at the archive
mkdir -p "$OUT/web/vendor"; cp "$SRC/web/index.html" "$SRC/web/map.js" "$OUT/web/"; echo '/* stub */' >"$OUT/web/vendor/pmtiles.js"
start "$OUT/s3" --web "$OUT/web" "$OUT/bruz.pmtiles" -q
curl -s -D "$OUT/root.h" -o /dev/null "$B/"
ok 'grep -q "^HTTP/1.1 302" "$OUT/root.h" && grep -qi "^location: /?pmtiles=bruz.pmtiles" "$OUT/root.h"' "/ with --web: redirected to the map of the first archive"
ok 'curl -s "$B/?pmtiles=bruz.pmtiles" | grep -q "map.js" && [ "$(code "$B/map.js")" = 200 ] && [ "$(code "$B/vendor/pmtiles.js")" = 200 ] && [ "$(code -H "Range: bytes=0-126" "$B/bruz.pmtiles")" = 206 ]' "the map page, its script and libraries, its archive"
ok '[ "$(code "$B/search?q=abc")" = 503 ]' "no index: the API answers 503"
kill -TERM "$PID"; wait "$PID"

# the real map page in Chromium (when the browser and the npm packages are
# there: tools/setup.sh test): its search box asks /completion and /search
CHROME=$(command -v chromium || true)
if [ -n "$CHROME" ] && command -v node >/dev/null && [ -d "$SRC/tests/js/node_modules/playwright-core" ] &&
   GEOFLUX_WEB=$(dirname "$GF")/share/geoflux/web bash "$SRC/web/install.sh" "$OUT/map" 2>/dev/null; then
  start "$OUT/s5" --web "$OUT/map" "$OUT/bruz.pmtiles" --index "$OUT/bruz.idx" -q
  node "$SRC/tests/js/search_check.mjs" "$CHROME" "$B/?pmtiles=bruz.pmtiles" "$OUT/search.png" "1 rue des acacias bruz" \
    >"$OUT/search_check.json" 2>"$OUT/search_check.err"; rc=$?
  ok '[ $rc -eq 0 ] && py "
import json; d=json.load(open(\"$OUT/search_check.json\"))
t,lon,lat=d[\"picked\"].split(\"|\"); assert \"Rue des Acacias\" in t and abs(float(lon)+1.7455)<0.001 and abs(float(lat)-48.0283)<0.001, d
t,lon,lat=d[\"entered\"].split(\"|\"); assert t.startswith(\"1 Rue des Acacias\"), d"' "map page: the search box suggests and flies to the address (screenshot search.png)"
  kill -TERM "$PID"; wait "$PID"
else
  echo "note: map page search box not checked (chromium, node or tests/js npm packages missing)"
fi

# a SITE: its adresses.pmtiles served; a new publication renamed into place
# is picked up without a restart, and a download in flight ends with the old bytes
mkdir -p "$OUT/pub"
cp "$OUT/bruz.pmtiles" "$OUT/pub/adresses.pmtiles"
start "$OUT/s4" "$OUT/pub" -q
ok '[ -n "$B" ] && [ "$(curl -s "$B/tiles/adresses.json" | py "import json,sys; print(json.load(sys.stdin)[\"maxzoom\"])")" = 14 ]' "SITE: adresses.pmtiles served"
# (1.9 MB read at 600 KB/s: more than the socket buffers hold)
curl -s --limit-rate 600k "$B/adresses.pmtiles" -o "$OUT/inflight.pmtiles" &
cpid=$!
sleep 0.5
cp "$SRC/tests/fuzz/corpus-fuzz_http/archive-small.pmtiles" "$OUT/pub/.adresses.pmtiles.new" && mv "$OUT/pub/.adresses.pmtiles.new" "$OUT/pub/adresses.pmtiles"
sleep 1.2
ok '[ "$(curl -s "$B/tiles/adresses.json" | py "import json,sys; print(json.load(sys.stdin)[\"maxzoom\"])")" = 6 ]' "a new publication is served without a restart"
ok 'curl -s "$B/adresses.pmtiles" | cmp -s - "$SRC/tests/fuzz/corpus-fuzz_http/archive-small.pmtiles"' "the new archive's bytes"
wait $cpid
ok 'cmp -s "$OUT/inflight.pmtiles" "$OUT/bruz.pmtiles"' "a download in flight finishes with the old archive"
kill -TERM "$PID"; wait "$PID"; rc=$?
ok '[ $rc -eq 0 ]' "SITE server: SIGTERM exit 0"

# a SITE's addresses: a new publication is indexed again in the background
# and swapped in, no request failing meanwhile (geoflux publish, twice)
P=$OUT/pubidx; rm -rf "$P" "$OUT/s6.stop"; mkdir -p "$P/src/bruz"; cp "$BAL" "$P/src/bruz/bal.csv"
pubx() { (cd "$P" && "$GF" publish src --store store.db -o site --perimeter 35 --at "$1" -q); }
pubx 2026-12-01
ok '[ -s "$P/site/adresses.csv.gz" ] && [ -s "$P/site/.geoflux-publication" ]' "publish: a SITE with adresses.csv.gz"
start "$OUT/s6" "$P/site" -j 2 -q
hits() { curl -s "$B/search?q=1+rue+des+zinnias+pourpres+bruz&autocomplete=0" | py "import json,sys; f=json.load(sys.stdin)['features']; print(f[0]['properties']['street'] if f and f[0]['properties']['score']>0.8 else '-')"; }
ok '[ -n "$B" ] && [ "$(hits)" = - ] && [ "$(curl -s "$B/search?q=1+rue+des+acacias+bruz" | py "import json,sys; print(json.load(sys.stdin)[\"features\"][0][\"properties\"][\"id\"])")" = 35047_0001_00001 ]' "SITE: its adresses.csv.gz answers /search"
# requests all along the rebuild: each must be a 200
( end=$((SECONDS + 30)); while [ $SECONDS -lt $end ] && [ ! -e "$OUT/s6.stop" ]; do
    curl -s -o /dev/null -w '%{http_code}\n' "$B/search?q=2+rue+des+acacias+bruz"
    curl -s -o /dev/null -w '%{http_code}\n' "$B/reverse?lon=-1.745464&lat=48.028382"
  done >"$OUT/s6.codes" ) &
lpid=$!
sed -i 's/;Rue des Acacias;/;Rue des Zinnias Pourpres;/' "$P/src/bruz/bal.csv"
pubx 2026-12-02
got=-
for _ in $(seq 1 150); do got=$(hits); [ "$got" = "Rue des Zinnias Pourpres" ] && break; sleep 0.2; done
touch "$OUT/s6.stop"; wait $lpid
ok '[ "$got" = "Rue des Zinnias Pourpres" ]' "a new publication's address answers /search without a restart"
ok '[ "$(grep -c . "$OUT/s6.codes")" -ge 10 ] && [ -z "$(grep -v "^200$" "$OUT/s6.codes")" ]' "no request failed during the rebuild ($(grep -c . "$OUT/s6.codes") requests)"
ok '[ "$(curl -s "$B/search?q=1+rue+des+acacias+bruz&autocomplete=0" | py "import json,sys; f=json.load(sys.stdin)[\"features\"]; print(f[0][\"properties\"][\"street\"] if f else \"-\")")" != "Rue des Acacias" ]' "the old address is gone from the index"
kill -TERM "$PID"; wait "$PID"; rc=$?
ok '[ $rc -eq 0 ]' "SITE with reloads: SIGTERM exit 0"

gf_test_end
