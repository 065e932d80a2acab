#!/usr/bin/env bash
# Vector tiles: the 1M-row extract -> MVT tiles z0-14, in one run:
#   geoflux -> .pmtiles and .mbtiles (all cores, and -j 1),
#   ogr2ogr -f MBTILES -dsco MAXZOOM=14 (GDAL's MVT driver), capped with
#   `timeout` (GF_TILES_OGR_CAP seconds, default 300: it needed > 20 min
#   here), and both tools on a 10k-row head of the extract, where GDAL
#   may finish, for a measured ratio (a lower bound when it hits the cap).
# Seconds and peak RSS from /usr/bin/time -v; largest tile (stored gzip and
# raw) from geoflux's log and, for GDAL's output, from sqlite3.
# Targets: geoflux < 15 s for 1M points z0-14, peak RSS < 500 MB, every
# tile < 500 KB. Env: GF (binary), GF_BENCH_EXTRACT (set by bench/run).
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-build/geoflux}
IN=${GF_BENCH_EXTRACT:-bench/out/adresses-31-synth-1000000.csv}
CAP=${GF_TILES_OGR_CAP:-300}
[ -s "$IN" ] || /usr/bin/python3 tools/gen_extract.py --rows 1000000 -o "$IN"
O=bench/out/tiles; rm -rf "$O"; mkdir -p "$O"
rows=$(($(wc -l < "$IN") - 1))
head -10001 "$IN" > "$O/head10k.csv"
# t LABEL KEY CMD...: runs CMD under time -v (and the cap for ogr2ogr)
t() {
  local label=$1 key=$2; shift 2
  local rc=0
  /usr/bin/time -v -o "$O/$key.time" "$@" >/dev/null 2>"$O/$key.err" || rc=$?
  local s kb
  s=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$O/$key.time" | awk -F: '{ if (NF == 3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$O/$key.time")
  echo "$s" > "$O/$key.s"; echo "$rc" > "$O/$key.rc"
  local note=""
  [ $rc -eq 124 ] && note="TIMEOUT at ${CAP} s (cap)"
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && note="FAILED (exit $rc)"
  printf "%-50s %9.2f %9d  %s\n" "$label" "$s" "$((kb / 1024))" "$note"
}
maxtile() { # largest stored tile of an MBTiles file
  sqlite3 "$1" "select max(length(tile_data)) from tiles" 2>/dev/null || echo "?"
}
printf "%-50s %9s %9s\n" "job" "seconds" "peak MB"
echo "--- $rows rows, z0-14"
t "geoflux -> .geojsonl (pipeline floor)" floor "$GF" convert "$IN" -o "$O/floor.geojsonl" -q
t "geoflux -> .pmtiles (all cores)" gfp "$GF" convert "$IN" -o "$O/gf.pmtiles" -v
t "geoflux -> .pmtiles (-j 1)" gfp1 "$GF" convert "$IN" -o "$O/gf1.pmtiles" -q -j 1
t "geoflux -> .mbtiles (all cores)" gfm "$GF" convert "$IN" -o "$O/gf.mbtiles" -q
t "ogr2ogr -f MBTILES -dsco MAXZOOM=14" ogr timeout "$CAP" ogr2ogr -f MBTILES -dsco MAXZOOM=14 "$O/ogr.mbtiles" "$IN" \
  -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -oo AUTODETECT_TYPE=YES -a_srs EPSG:4326 -nln addresses
echo "--- 10000 rows (head of the extract), z0-14"
t "geoflux -> .mbtiles (10k)" gf10 "$GF" convert "$O/head10k.csv" -o "$O/gf10.mbtiles" -q
t "ogr2ogr -f MBTILES -dsco MAXZOOM=14 (10k)" ogr10 timeout "$CAP" ogr2ogr -f MBTILES -dsco MAXZOOM=14 "$O/ogr10.mbtiles" "$O/head10k.csv" \
  -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -oo AUTODETECT_TYPE=YES -a_srs EPSG:4326 -nln addresses
echo
grep -o 'tiles: .*' "$O/gfp.err" || true
cmp -s "$O/gf.pmtiles" "$O/gf1.pmtiles" && echo "pmtiles -j 1 and all cores: identical bytes" || echo "pmtiles -j 1 and all cores: DIFFER"
r() { echo "$(cat "$O/$1.s") / $(cat "$O/$2.s")" | bc -l; }
capped() { [ "$(cat "$O/$1.rc")" = 124 ] && echo ">= " || echo ""; }
printf "largest stored tile: geoflux 1M %s bytes, geoflux 10k %s, GDAL 10k %s; limit 512000\n" "$(maxtile "$O/gf.mbtiles")" "$(maxtile "$O/gf10.mbtiles")" "$(maxtile "$O/ogr10.mbtiles")"
printf "ratio ogr2ogr/geoflux: 10k rows %s%.1fx; %d rows %s%.1fx (cap %d s)\n" "$(capped ogr10)" "$(r ogr10 gf10)" "$rows" "$(capped ogr)" "$(r ogr gfm)" "$CAP"
printf "geoflux 1M z0-14: %.2f s (target < 15), tiles over the floor: %.2f s\n" "$(cat "$O/gfp.s")" "$(echo "$(cat "$O/gfp.s") - $(cat "$O/floor.s")" | bc -l)"
ls -l "$O"/*.pmtiles "$O"/*.mbtiles 2>/dev/null | awk '{printf "%s %.0f MB\n", $NF, $5 / 1048576}'
rm -f "$O"/*.geojsonl "$O"/*.pmtiles "$O"/*.mbtiles "$O"/*.rejects.csv "$O/head10k.csv"
