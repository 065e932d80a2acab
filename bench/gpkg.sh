#!/usr/bin/env bash
# GeoPackage output: the 1M-row extract -> .gpkg, in one run:
#   geoflux (native writer: SQLite directly, bulk-loaded R-tree),
#   geoflux -f ogr:GPKG (same pipeline, GDAL's GPKG driver as the sink;
#   -f GPKG names geoflux's own writer),
#   ogr2ogr -f GPKG with the recommended bulk options (-gt unlimited,
#   OGR_SQLITE_SYNCHRONOUS=OFF), reading the same CSV with GDAL's CSV driver.
# Seconds and peak RSS from /usr/bin/time; the outputs' feature counts are
# compared so that a fast but wrong run shows. Targets: >= 10x ogr2ogr,
# peak RSS < 150 MB. Env: GF (binary), GF_BENCH_EXTRACT (set by bench/run).
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-build/geoflux}
IN=${GF_BENCH_EXTRACT:-bench/out/adresses-31-synth-1000000.csv}
[ -s "$IN" ] || /usr/bin/python3 tools/gen_extract.py --rows 1000000 -o "$IN"
O=bench/out/gpkg; rm -rf "$O"; mkdir -p "$O"
rows=$(($(wc -l < "$IN") - 1))
t() { /usr/bin/time -f "%e %M" -o "$O/time" "$@" >/dev/null 2>"$O/stderr" || { echo "failed: $*" >&2; cat "$O/stderr" >&2; }; tail -1 "$O/time"; }
count() { ogrinfo -ro -so "$1" "$2" 2>/dev/null | sed -n 's/^Feature Count: //p'; }
printf "%-52s %9s %9s %10s %10s\n" "job ($rows rows)" "seconds" "peak MB" "rows/s" "features"
row() {
  read -r s kb <<<"$2"
  printf "%-52s %9.2f %9.0f %10.0f %10s\n" "$1" "$s" "$((kb / 1024))" "$(echo "$rows / $s" | bc -l)" "$(count "$4" "$5")"
  echo "$s" > "$O/$3.s"; echo "$kb" > "$O/$3.kb"
}
# the floor: the same pipeline (parse, BAL checks, typing, positions) into NDJSON
row "geoflux convert -> .geojsonl (pipeline floor)" "$(t "$GF" convert "$IN" -o "$O/floor.geojsonl" -q)" floor "$O/floor.geojsonl" floor
row "geoflux convert -> .gpkg (native, all cores)" "$(t "$GF" convert "$IN" -o "$O/gf.gpkg" -q)" gf "$O/gf.gpkg" addresses
row "geoflux convert -> .gpkg (native, -j 1)" "$(t "$GF" convert "$IN" -o "$O/gf1.gpkg" -q -j 1)" gf1 "$O/gf1.gpkg" addresses
row "geoflux convert -f ogr:GPKG (GDAL driver as sink)" "$(t "$GF" convert "$IN" -o "$O/gf-gdal.gpkg" -f ogr:GPKG -q)" gfgdal "$O/gf-gdal.gpkg" addresses
row "ogr2ogr -f GPKG -gt unlimited, SYNCHRONOUS OFF" "$(t ogr2ogr -f GPKG -gt unlimited --config OGR_SQLITE_SYNCHRONOUS OFF \
  "$O/ogr.gpkg" "$IN" -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -oo AUTODETECT_TYPE=YES -a_srs EPSG:4326 \
  -nln addresses)" ogr "$O/ogr.gpkg" addresses
r() { echo "$(cat "$O/$1.s") / $(cat "$O/$2.s")" | bc -l; }
printf "ratio ogr2ogr/geoflux: %.1fx (target >= 10x); GDAL-driver sink/native sink: %.1fx; peak RSS %d MB (target < 150)\n" \
  "$(r ogr gf)" "$(r gfgdal gf)" "$(($(cat "$O/gf.kb") / 1024))"
printf "GeoPackage cost over the NDJSON floor: %.2f s of %.2f s\n" "$(echo "$(cat "$O/gf.s") - $(cat "$O/floor.s")" | bc -l)" "$(cat "$O/gf.s")"
ls -l "$O"/*.gpkg | awk '{printf "%s %.0f MB\n", $NF, $5 / 1048576}'
rm -f "$O"/*.gpkg "$O"/*.geojsonl "$O"/*.rejects.csv
