#!/usr/bin/env bash
# Geocoding: index build on the 1M-address synthetic extract, 100,000
# queries typed the way people type them (bench/gen_geocode_queries.py) on
# one core and on all cores, reverse geocoding of 100,000 points, against a
# peer: an exact dictionary join in Python (bench/geocode_peer.py), the
# simplest thing that runs offline (the national geocoder's batch path runs at
# tens of rows per second and needs many GB for its index).
# Env: GF (binary), GF_BENCH_EXTRACT (BAN-format CSV), set by bench/run;
# GF_BENCH_QUERIES (default 100000: a smaller number checks that the script
# runs, its timings mean nothing). Timings need a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-build/geoflux}
IN=${GF_BENCH_EXTRACT:?run through bench/run}
O=bench/out/geocode; rm -rf "$O"; mkdir -p "$O"
N=${GF_BENCH_QUERIES:-100000}
case $N in ''|*[!0-9]*|0) echo "GF_BENCH_QUERIES: a positive integer expected" >&2; exit 2;; esac
t() { /usr/bin/time -f "%e %M" -o "$O/time" "$@" >/dev/null 2>"$O/stderr" || { cat "$O/stderr" >&2; echo "0 0"; return; }; cat "$O/time"; }
/usr/bin/python3 bench/gen_geocode_queries.py "$IN" "$N" "$O/queries.csv"
rows=$(($(wc -l < "$IN") - 1))
printf "%-52s %10s %10s %12s\n" "job ($rows addresses, $N queries)" "seconds" "peak MB" "rows/s"
row() { read -r s kb <<<"$2"; printf "%-52s %10.2f %10.0f %12.0f\n" "$1" "$s" "$((kb/1024))" "$(echo "$3 / $s" | bc -l)"; echo "$s" > "$O/$4.s"; }
row "geoflux index build (all cores)" "$(t "$GF" index build "$IN" -o "$O/ix.idx" -q)" "$rows" build
row "geoflux index build (-j 1)" "$(t "$GF" index build "$IN" -o "$O/ix1.idx" -q -j 1)" "$rows" build1
Q=(--columns adresse --postcode postcode --city city)
row "geoflux geocode --index, 1 core (-j 1)" "$(t "$GF" geocode --index "$O/ix.idx" "$O/queries.csv" -o "$O/out1.csv" -q -j 1 "${Q[@]}")" "$N" geo1
row "geoflux geocode --index, all cores" "$(t "$GF" geocode --index "$O/ix.idx" "$O/queries.csv" -o "$O/out.csv" -q "${Q[@]}")" "$N" geo
row "geoflux geocode --addresses (build + queries)" "$(t "$GF" geocode --addresses "$IN" "$O/queries.csv" -o "$O/outa.csv" -q "${Q[@]}")" "$N" geoa
row "geoflux reverse --index, 1 core (-j 1)" "$(t "$GF" reverse --index "$O/ix.idx" "$O/queries.csv" --lat true_lat --lon true_lon -o "$O/rev1.csv" -q -j 1)" "$N" rev1
# the matcher alone (no CSV in or out), against the static library of the same build
LIB=$(dirname "$GF")/libgeoflux.a
if [ -f "$LIB" ] && cc -O2 -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc bench/geocode_qps.c "$LIB" \
     $(pkg-config --libs proj geos gdal sqlite3 zlib) -lpthread -lm -o "$O/qps" 2>/dev/null; then
  read -r qn qs qr qf <<<"$("$O/qps" "$O/ix.idx" "$O/queries.csv")"
  printf "%-52s %10.2f %10s %12.0f\n" "gf_gc_geocode() alone, 1 thread" "$qs" "-" "$qr"
  qps_alone=$qr
fi
cmp -s "$O/out1.csv" "$O/out.csv" && echo "geocode output: -j 1 and all cores give the same bytes" || echo "!!! geocode output differs between -j 1 and all cores"
read -r pb pq pf pn <<<"$(/usr/bin/python3 bench/geocode_peer.py "$IN" "$O/queries.csv")"
printf "%-52s %10.2f %10s %12.0f\n" "peer: Python exact dict join, build" "$pb" "-" "$(echo "$rows / $pb" | bc -l)"
printf "%-52s %10.2f %10s %12.0f\n" "peer: Python exact dict join, $N queries" "$pq" "-" "$(echo "$N / $pq" | bc -l)"
acc=$(/usr/bin/python3 -c "
import csv, math
n = k = 0
for r in csv.DictReader(open('$O/out1.csv', encoding='utf-8')):
    n += 1
    if r['latitude']:
        dx = (float(r['longitude']) - float(r['true_lon'])) * 111320 * math.cos(math.radians(float(r['true_lat'])))
        dy = (float(r['latitude']) - float(r['true_lat'])) * 110574
        k += math.hypot(dx, dy) <= 25
print(f'{100.0 * k / n:.2f}')")
printf "within 25 m of the truth: geoflux %s %%, peer %.2f %%\n" "$acc" "$(echo "100 * $pn / $N" | bc -l)"
printf "queries/s on one core: geoflux %.0f; ratio geoflux/peer (queries) %.1fx; index build %.2f s (peer %.2f s)\n" \
  "$(echo "$N / $(cat "$O/geo1.s")" | bc -l)" "$(echo "$pq / $(cat "$O/geo1.s")" | bc -l)" "$(cat "$O/build.s")" "$pb"
# issue 15: >= 150,000 queries/s on one core with the current matching (the
# matcher alone, gf_gc_geocode() over the queries in memory)
[ -n "${qps_alone:-}" ] && printf "matcher alone on one core: %.0f queries/s (target >= 150000: %s)\n" "$qps_alone" \
  "$(echo "$qps_alone >= 150000" | bc -l | sed 's/1/met/;s/0/NOT met/')"
rm -f "$O"/*.csv "$O"/ix1.idx "$O/qps"
