#!/usr/bin/env bash
# Spatial join to the 587 Haute-Garonne communes: `geoflux convert --communes`
# vs GeoPandas (read CSV + sjoin + write GeoJSONSeq) on the same synthetic
# extract, in one run; both outputs must give the same commune for every point
# not on a border. Reports the time ratio, peak RSS, and the join stage alone in
# points/s/core (geoflux --verbose, CPU time of the worker threads).
# Env: GF (binary), GF_BENCH_EXTRACT (BAN-format CSV), set by bench/run.
# Needs Debian's python3-geopandas (run with /usr/bin/python3, see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-build/geoflux}
IN=${GF_BENCH_EXTRACT:-bench/out/adresses-31-synth-1000000.csv}
[ -s "$IN" ] || /usr/bin/python3 tools/gen_extract.py --rows 1000000 -o "$IN"
B=data/samples/boundaries/communes-31-haute-garonne.geojson
O=bench/out/join; rm -rf "$O"; mkdir -p "$O"
rows=$(($(wc -l < "$IN") - 1))
t() { /usr/bin/time -f "%e %M" -o "$O/time" "$@" >/dev/null 2>"$O/stderr" || { cat "$O/stderr" >&2; echo "0 0"; return; }; cat "$O/time"; }
printf "%-52s %10s %10s %10s\n" "job ($rows rows, 587 communes)" "seconds" "peak MB" "rows/s"
row() { read -r s kb <<<"$2"; printf "%-52s %10.2f %10.0f %10.0f\n" "$1" "$s" "$((kb/1024))" "$(echo "$rows / $s" | bc -l)"; echo "$s" > "$O/$3.s"; echo "$kb" > "$O/$3.kb"; }

row "geoflux convert --communes -> .geojsonl" \
  "$(t "$GF" convert "$IN" -o "$O/gf.geojsonl" --communes "$B" --stats "$O/gf-stats.csv" -v)" gf
grep "join:" "$O/stderr" | sed 's/^geoflux: /  /' > "$O/join.log" || true
row "geoflux convert --communes -> .geojsonl (-j 1)" \
  "$(t "$GF" convert "$IN" -o "$O/gf1.geojsonl" --communes "$B" -v -j 1)" gf1
grep "join:" "$O/stderr" | sed 's/^geoflux: /  /' > "$O/join1.log" || true
row "geoflux convert (no join) -> .geojsonl" "$(t "$GF" convert "$IN" -o "$O/gf0.geojsonl" -q)" gf0
row "GeoPandas read_csv + sjoin + to_file(GeoJSONSeq)" \
  "$(t /usr/bin/python3 bench/join_geopandas.py "$IN" "$B" "$O/gp.geojsonl")" gp
sed 's/^/  /' "$O/stderr"
echo "join stage alone (-j 1):"
cat "$O/join1.log"
echo "join stage alone (all cores):"
cat "$O/join.log"
# the point-in-polygon alone on uniform random points, against the static library of the same build
LIB=$(dirname "$GF")/libgeoflux.a
if [ -f "$LIB" ] && cc -O2 -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc bench/join_pip.c "$LIB" \
     $(pkg-config --libs proj geos gdal sqlite3 zlib) -lpthread -lm -o "$O/pip" 2>/dev/null; then
  read -r pn ps pr pin <<<"$("$O/pip" "$B" 10000000)"
  printf "gf_join_locate() alone, 1 thread, %d uniform random points over the extent (%d inside): %.1f M points/s\n" \
    "$pn" "$pin" "$(echo "$pr / 1000000" | bc -l)"
fi
printf "ratio GeoPandas/geoflux: %.1fx (all cores), %.1fx (-j 1); join overhead in geoflux: %+.2f s\n" \
  "$(echo "$(cat "$O/gp.s") / $(cat "$O/gf.s")" | bc -l)" "$(echo "$(cat "$O/gp.s") / $(cat "$O/gf1.s")" | bc -l)" \
  "$(echo "$(cat "$O/gf.s") - $(cat "$O/gf0.s")" | bc -l)"
printf "peak RSS: geoflux %d MB, GeoPandas %d MB\n" "$(($(cat "$O/gf.kb") / 1024))" "$(($(cat "$O/gp.kb") / 1024))"
/usr/bin/python3 bench/join_geopandas.py --compare "$O/gf.geojsonl" "$O/gp.geojsonl" "$B"
rm -f "$O"/*.geojsonl
