#!/usr/bin/env bash
# Two builds of geoflux on the same extract, in one run: is a change
# slower? Each job (NDJSON, GeoPackage, PMTiles) runs alternately
# A, B, A, B, A, B, and the median of three is printed with its peak RSS
# and the ratio B/A (above 1: B is slower). Outputs are compared with cmp
# where both builds should write the same bytes (NDJSON).
# Usage: bench/ab.sh A_BINARY B_BINARY [ROWS]   (default 1000000 rows)
# Build A from an earlier commit, for example:
#   git worktree add /tmp/gf-a COMMIT && cmake -S /tmp/gf-a -B /tmp/gf-a/build \
#     -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build /tmp/gf-a/build -j2
set -euo pipefail
cd "$(dirname "$0")/.."
A=${1:?A binary}; B=${2:?B binary}; ROWS=${3:-1000000}
IN=bench/out/adresses-31-synth-$ROWS.csv
mkdir -p bench/out
[ -s "$IN" ] || /usr/bin/python3 tools/gen_extract.py --rows "$ROWS" -o "$IN" >/dev/null
O=bench/out/ab; rm -rf "$O"; mkdir -p "$O"
one() { # label bin args... -> "seconds kb"
  local tag=$1 bin=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$O/time" "$bin" "$@" >/dev/null 2>&1 || echo "!!! $tag failed" >&2
  tail -1 "$O/time"
}
median() { sort -n | sed -n 2p; }
printf "%-34s %9s %9s %8s %8s %7s\n" "job ($ROWS rows)" "A s" "B s" "A MB" "B MB" "B/A"
job() { # label out-ext args...
  local label=$1 ext=$2; shift 2
  for i in 1 2 3; do
    for v in A B; do
      bin=$A; [ $v = B ] && bin=$B
      one "$label $v" "$bin" "$@" -o "$O/$v.$ext" -q --overwrite >> "$O/$v.runs"
    done
  done
  local as bs am bm
  as=$(cut -d' ' -f1 "$O/A.runs" | median); bs=$(cut -d' ' -f1 "$O/B.runs" | median)
  am=$(cut -d' ' -f2 "$O/A.runs" | sort -n | tail -1); bm=$(cut -d' ' -f2 "$O/B.runs" | sort -n | tail -1)
  printf "%-34s %9.2f %9.2f %8d %8d %7.2f\n" "$label" "$as" "$bs" $((am / 1024)) $((bm / 1024)) "$(echo "$bs / $as" | bc -l)"
  rm -f "$O/A.runs" "$O/B.runs"
}
job "convert -> .geojsonl" geojsonl convert "$IN"
cmp -s "$O/A.geojsonl" "$O/B.geojsonl" && echo "  NDJSON: A and B wrote the same bytes" || echo "  NDJSON: A and B DIFFER"
job "convert -> .gpkg" gpkg convert "$IN"
job "convert -> .pmtiles" pmtiles convert "$IN"
rm -f "$O"/A.* "$O"/B.*
