#!/usr/bin/env bash
# Streaming core: CSV -> NDJSON / GeoJSON, geoflux vs ogr2ogr on the same extract.
# Env: GF (binary), GF_BENCH_EXTRACT (BAN-format CSV), set by bench/run.
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-build/geoflux}
IN=${GF_BENCH_EXTRACT:?run through bench/run}
O=bench/out/convert; rm -rf "$O"; mkdir -p "$O"
t() { /usr/bin/time -f "%e %M" -o "$O/time" "$@" >/dev/null 2>&1 || true; cat "$O/time"; }
rows=$(($(wc -l < "$IN") - 1))
printf "%-44s %10s %10s %10s\n" "job ($rows rows)" "seconds" "peak MB" "rows/s"
row() { read -r s kb <<<"$2"; printf "%-44s %10.2f %10.0f %10.0f\n" "$1" "$s" "$((kb/1024))" "$(echo "$rows / $s" | bc -l)"; echo "$s" > "$O/$3.s"; }
row "geoflux convert -> .geojsonl (all cores)" "$(t "$GF" convert "$IN" -o "$O/gf.geojsonl" -q)" gf_ndjson
row "geoflux convert -> .geojsonl (-j 1)" "$(t "$GF" convert "$IN" -o "$O/gf1.geojsonl" -q -j 1)" gf_ndjson1
row "geoflux convert -> .geojson" "$(t "$GF" convert "$IN" -o "$O/gf.geojson" -q)" gf_geojson
row "ogr2ogr -f GeoJSONSeq" "$(t ogr2ogr -f GeoJSONSeq "$O/ogr.geojsonl" "$IN" -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -oo AUTODETECT_TYPE=YES -a_srs EPSG:4326)" ogr_ndjson
row "ogr2ogr -f GeoJSON" "$(t ogr2ogr -f GeoJSON "$O/ogr.geojson" "$IN" -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -oo AUTODETECT_TYPE=YES -a_srs EPSG:4326)" ogr_geojson
printf "ratio ogr2ogr/geoflux: NDJSON %.1fx, GeoJSON %.1fx\n" \
  "$(echo "$(cat $O/ogr_ndjson.s) / $(cat $O/gf_ndjson.s)" | bc -l)" "$(echo "$(cat $O/ogr_geojson.s) / $(cat $O/gf_geojson.s)" | bc -l)"
