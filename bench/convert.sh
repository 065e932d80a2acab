#!/usr/bin/env bash
# Streaming core: CSV -> NDJSON / GeoJSON, geoflux vs ogr2ogr on the same
# extract, in one run: plain (positions from lon/lat) and with reprojection
# (to Lambert-93 in GeoJSON: NDJSON holds WGS84 only); then peak RSS on a tenth of the file, to show that memory
# does not grow with the input.
# Env: GF (binary), GF_BENCH_EXTRACT (BAN-format CSV), set by bench/run.
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-build/geoflux}
IN=${GF_BENCH_EXTRACT:?run through bench/run}
O=bench/out/convert; rm -rf "$O"; mkdir -p "$O"
# a run that fails stops the bench: its time would be the failure's
t() { /usr/bin/time -f "%e %M" -o "$O/time" "$@" >/dev/null 2>"$O/stderr" || { echo "!!! failed: $*" >&2; tail -3 "$O/stderr" >&2; exit 1; }
  tail -1 "$O/time"; }
rows=$(($(wc -l < "$IN") - 1))
OGR_IN=(-oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -oo AUTODETECT_TYPE=YES)
printf "%-48s %10s %10s %10s\n" "job ($rows rows)" "seconds" "peak MB" "rows/s"
row() { [ -n "$2" ] || exit 1; read -r s kb <<<"$2"; printf "%-48s %10.2f %10.0f %10.0f\n" "$1" "$s" "$((kb/1024))" "$(echo "$rows / $s" | bc -l)"; echo "$s" > "$O/$3.s"; echo "$kb" > "$O/$3.kb"; }
row "geoflux convert -> .geojsonl (all cores)" "$(t "$GF" convert "$IN" -o "$O/gf.geojsonl" -q)" gf_ndjson
row "geoflux convert -> .geojsonl (-j 1)" "$(t "$GF" convert "$IN" -o "$O/gf1.geojsonl" -q -j 1)" gf_ndjson1
row "geoflux convert -> .geojson" "$(t "$GF" convert "$IN" -o "$O/gf.geojson" -q)" gf_geojson
row "geoflux convert -> .geojson --t-srs EPSG:2154" "$(t "$GF" convert "$IN" -o "$O/gf-l93.geojson" -q --t-srs EPSG:2154)" gf_l93
row "ogr2ogr -f GeoJSONSeq" "$(t ogr2ogr -f GeoJSONSeq "$O/ogr.geojsonl" "$IN" "${OGR_IN[@]}" -a_srs EPSG:4326)" ogr_ndjson
row "ogr2ogr -f GeoJSON" "$(t ogr2ogr -f GeoJSON "$O/ogr.geojson" "$IN" "${OGR_IN[@]}" -a_srs EPSG:4326)" ogr_geojson
# GDAL stops at the first point PROJ cannot transform (the damaged rows'
# latitude 95) unless -skipfailures, which commits feature by feature; so
# its reprojecting run goes the other way, from the Lambert-93 x/y columns
# (empty on those rows) to lon/lat. One PROJ transform per point in both.
row "ogr2ogr -f GeoJSONSeq from x/y EPSG:2154" "$(t ogr2ogr -f GeoJSONSeq "$O/ogr-l93.geojsonl" "$IN" -oo X_POSSIBLE_NAMES=x -oo Y_POSSIBLE_NAMES=y -oo AUTODETECT_TYPE=YES -s_srs EPSG:2154 -t_srs EPSG:4326)" ogr_l93
# Where the default job's CPU goes (issue 18: a budget of 1 µs a row per
# stage): the NDJSON run again with --profile-stages, a line per stage,
# thread CPU summed over the threads (load-independent enough to read on a
# busy machine, unlike the wall times above).
"$GF" convert "$IN" -o "$O/gf-prof.geojsonl" -q --summary json --profile-stages > "$O/profile.json"
/usr/bin/python3 - "$O/profile.json" <<'EOF'
import json, os, sys
p = json.load(open(sys.argv[1]))["profile"]
print("stage CPU of the default job (%d rows, %d threads):" % (p["rows"], p["threads"]))
lines = [(l["stage"] + (" " + os.path.basename(l["output"]) if "output" in l else ""), l["cpu_s"]) for l in p["stages"]]
lines += [("other (no stage's thread)", p["other_cpu_s"]), ("total (process CPU)", p["process_cpu_s"])]
for name, cpu in lines:
    print("  stage %-40s %9.3f s CPU %9.3f us/row" % (name, cpu, cpu * 1e6 / p["rows"] if p["rows"] else 0))
EOF
r() { echo "$(cat "$O/$1.s") / $(cat "$O/$2.s")" | bc -l; }
printf "ratio ogr2ogr/geoflux: NDJSON %.1fx, GeoJSON %.1fx, with reprojection %.1fx\n" \
  "$(r ogr_ndjson gf_ndjson)" "$(r ogr_geojson gf_geojson)" "$(r ogr_l93 gf_l93)"
# Memory against input size: the first tenth of the same file.
head -n $((rows / 10 + 1)) "$IN" > "$O/tenth.csv"
row "geoflux convert -> .geojsonl, $((rows / 10)) rows" "$(t "$GF" convert "$O/tenth.csv" -o "$O/gf-tenth.geojsonl" -q)" gf_tenth
printf "peak RSS: %d MB at %d rows, %d MB at %d rows\n" "$(($(cat "$O/gf_tenth.kb") / 1024))" $((rows / 10)) \
  "$(($(cat "$O/gf_ndjson.kb") / 1024))" "$rows"
rm -f "$O"/*.geojson "$O"/*.geojsonl "$O/tenth.csv"
