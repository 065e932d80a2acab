#!/usr/bin/env bash
# geoflux publish on a department: the 587 communes of Haute-Garonne, one BAL
# file per commune in its producer's folder, in mixed versions (1.3, 1.4,
# 1.5), GF_BENCH_ROWS addresses in all (bench/gen_publish.py). First run on
# an empty store, then a re-run where 10 communes sent a new file (10 % of
# their addresses gone, one renamed), then a re-run with nothing new. Wall
# time, CPU time and peak RSS of each, with the time of each step (-v).
# The issue's targets on 2 cores: first run <= 10 s, re-run <= 3 s, RSS <= 300 MB.
# Env: GF (binary), GF_BENCH_ROWS (default 1000000), set by bench/run.
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-build/geoflux}
ROWS=${GF_BENCH_ROWS:-1000000}
O=bench/out/publish; rm -rf "$O"; mkdir -p "$O"
B=data/samples/boundaries/communes-31-haute-garonne.geojson
python3 bench/gen_publish.py --rows "$ROWS" -o "$O/sources"
run() {  # NAME AT: one run, its figures
  /usr/bin/time -f "%e %U %S %M" -o "$O/$1.time" "$GF" publish "$O/sources" --store "$O/store.db" -o "$O/site" \
    --perimeter 31 --communes "$B" --at "$2" -v > /dev/null 2> "$O/$1.log" || [ $? -eq 1 ]
  read -r wall user sys kb < <(tail -1 "$O/$1.time")
  printf "%-34s %8.2f s wall %8.2f s CPU %6d MB peak   %s\n" "$1" "$wall" "$(echo "$user + $sys" | bc -l)" $((kb / 1024)) \
    "$(sed -n 's/^geoflux: \(communes: .*\)/\1/p' "$O/$1.log")"
  grep -o 'publish: .*' "$O/$1.log" | sed 's/^/    /'
}
echo "publish: $(ls "$O/sources" | wc -l) submissions, $(cat "$O"/sources/*/*.csv | wc -l) lines, $(nproc) cores"
run "first run (empty store)" 2026-12-01
python3 bench/gen_publish.py --rows "$ROWS" -o "$O/sources" --change 10 > /dev/null
run "re-run, 10 communes changed" 2026-12-02
run "re-run, nothing new" 2026-12-03
du -sh "$O/store.db" "$O/site" | sed 's/^/  /'
