#!/usr/bin/env bash
# National scale on one machine: France's BAN is about 26M addresses.
# Generated BAN-format extracts laid over every commune of the six
# departments in data/samples/boundaries (tools/gen_extract.py --boundaries),
# at 1M, 5M and N rows (default 26,000,000; sizes above N are skipped), each
# through:
#   convert -> NDJSON                      (streaming: memory must stay flat)
#   convert --communes -> NDJSON + GPKG + PMTiles, one pass, --max-memory 1G
#                                          (the R-tree and the tiles' sort
#                                          spill to disk past their shares)
#   publish (the extract as one BAN submission, the six departments as the
#           perimeter, an empty store; --max-size raised, the extract being
#           one file of several GB; a run that publishes nothing fails the
#           bench)
# Prints seconds, peak RSS, µs per row, and each run against the 1M run:
# time per row (linear means 1.00) and peak RSS; for publish, also the peak
# of its streaming steps (read, split, harmonise, validate, store: what
# -v logs at "revisions stored"), apart from the map step's GeoPackage and
# tiles, whose R-tree and sort fill their own --max-memory (128M) as the
# rows grow.
# Usage: bench/scale.sh [N]   (GF: the binary; GF_SCALE_SIZES="a b c" other sizes; GF_SCALE_JOBS="ndjson three
# publish" the jobs run; needs about 45 GB of disk at 26M:
# the extract is kept in bench/out/scale, each run's outputs are removed after it)
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-build/geoflux}
N=${1:-26000000}
O=$(realpath -m bench/out/scale); mkdir -p "$O"
BOUNDS=(data/samples/boundaries/*.geojson)
B="$O/communes-6.gpkg"
if [ ! -s "$B" ]; then
  rm -f "$B"
  for f in "${BOUNDS[@]}"; do ogr2ogr -f GPKG -append -nln communes -nlt MULTIPOLYGON "$B" "$f"; done
fi
sizes=()
for s in ${GF_SCALE_SIZES:-1000000 5000000 $N}; do
  [ "$s" -le "$N" ] && { [ ${#sizes[@]} -eq 0 ] || [ "${sizes[-1]}" -ne "$s" ]; } && sizes+=("$s")
done
# wall seconds and peak KB of one command (outputs under $O/run, removed after);
# exit 1 is a run that ended (publish: some communes rejected, see its summary)
t() { rm -rf "$O/run"; mkdir -p "$O/run"
  local rc=0; /usr/bin/time -f "%e %M" -o "$O/time" "$@" >/dev/null 2>"$O/stderr" || rc=$?
  [ $rc -le 1 ] || { echo "!!! failed ($rc): $*" >&2; tail -5 "$O/stderr" >&2; exit 1; }
  grep -E "^geoflux: (rows|communes|read)" "$O/stderr" | sed "s/^geoflux:/   /" >> "$O/summaries.txt" || true
  rm -rf "$O/run"; tail -1 "$O/time"; }
base_pre=
printf "%-11s %-44s %9s %9s %8s %15s %10s\n" rows job seconds "peak MB" "µs/row" "time/row vs ${sizes[0]}" "RSS vs ${sizes[0]}"
declare -A base_s base_kb
: > "$O/summaries.txt"
for n in "${sizes[@]}"; do
  IN="$O/adresses-6dep-$n.csv"
  if [ ! -s "$IN" ]; then
    args=(); for f in "${BOUNDS[@]}"; do args+=(--boundaries "$f"); done
    /usr/bin/python3 tools/gen_extract.py --rows "$n" -o "$IN.tmp" "${args[@]}" 2>/dev/null && mv "$IN.tmp" "$IN"
  fi
  # read once before the runs: the first job of each size is not the one
  # that pays the extract's first read from disk (bench/run's earlier
  # scripts leave the page cache full of other files)
  cat "$IN" > /dev/null
  for job in ${GF_SCALE_JOBS:-ndjson three publish}; do
    case $job in
      ndjson) label="convert -> NDJSON"
              r=$(t "$GF" convert "$IN" -o "$O/run/a.geojsonl" -q) ;;
      three)  label="convert --communes -> NDJSON+GPKG+PMTiles"
              r=$(t "$GF" convert "$IN" --communes "$B" -o "$O/run/a.geojsonl" -o "$O/run/a.gpkg" \
                    -o "$O/run/a.pmtiles" --max-memory 1G --tmpdir "$O/run" -q) ;;
      publish) label="publish (empty store)"
              r=$(t "$GF" publish "$IN" --store "$O/run/store.db" -o "$O/run/site" --perimeter "$B" \
                    --communes "$B" --at 2026-12-01 --max-size 1024G -v)
              grep -q "communes: published [1-9]" "$O/stderr" || { echo "!!! publish published nothing:" \
                "$(grep -m1 'communes:' "$O/stderr")" >&2; exit 1; } ;;
    *) echo "GF_SCALE_JOBS: unknown job '$job' (ndjson, three, publish)" >&2; exit 2 ;;
    esac
    read -r s kb <<<"$r"
    [ -z "${base_s[$job]:-}" ] && { base_s[$job]=$s; base_kb[$job]=$kb; }
    printf "%-11s %-44s %9.2f %9d %8.2f %15.2f %10.2f\n" "$n" "$label" "$s" "$((kb / 1024))" \
      "$(echo "$s * 1000000 / $n" | bc -l)" \
      "$(echo "($s / $n) / (${base_s[$job]} / ${sizes[0]})" | bc -l)" "$(echo "$kb / ${base_kb[$job]}" | bc -l)"
    if [ "$job" = publish ]; then
      pre=$(sed -n 's/.*revisions stored (.*peak \([0-9]*\) MB).*/\1/p' "$O/stderr")
      [ -n "$pre" ] || { echo "!!! publish -v logged no 'revisions stored' step" >&2; exit 1; }
      [ -z "${base_pre:-}" ] && base_pre=$pre
      printf "%-11s %-44s %9s %9d %8s %15s %10.2f\n" "" "  its streaming steps (before the map step)" "" "$pre" "" "" \
        "$(echo "$pre / $base_pre" | bc -l)"
    fi
  done
done
echo "runs' own summaries (in order):"; cat "$O/summaries.txt"
