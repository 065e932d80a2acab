#!/usr/bin/env bash
# BAL validation: geoflux validate vs the reference validator
# (@ban-team/validateur-bal, node, tests/js/node_modules) on the same
# 100k-row BAL 1.4 file (bench/gen_bal.py: the BAN-layout extract of
# gen_extract.py is not a BAL file), then geoflux alone on 1M rows for
# time and peak RSS (memory against input size).
# Env: GF (binary), GF_BENCH_ROWS (default 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-build/geoflux}
N=${GF_BENCH_ROWS:-100000}
O=bench/out/validate; rm -rf "$O"; mkdir -p "$O"
python3 bench/gen_bal.py --rows "$N" -o "$O/bal-$N.csv"
python3 bench/gen_bal.py --rows $((N * 10)) -o "$O/bal-$((N * 10)).csv"
# wall seconds, peak KB, CPU seconds (user + sys: the machine may be shared)
# (exit 1 is an invalid file, a finished run; anything above is a failure, never timed)
t() { local rc=0; /usr/bin/time -f "%e %M %U %S" -o "$O/time" "$@" >/dev/null 2>"$O/stderr" || rc=$?
  [ $rc -le 1 ] || { echo "!!! failed ($rc): $*" >&2; tail -3 "$O/stderr" >&2; exit 1; }; tail -1 "$O/time"; }
# geoflux runs take a fraction of a second: best of three, as hyperfine's min
best3() { for i in 1 2 3; do t "$@"; done | sort -n | head -1; }
printf "%-52s %10s %10s %10s %10s\n" "job" "seconds" "CPU s" "peak MB" "rows/s"
row() { [ -n "$2" ] || exit 1; read -r s kb u sy <<<"$2"; cpu=$(echo "$u + $sy" | bc -l)
  printf "%-52s %10.2f %10.2f %10.0f %10.0f\n" "$1" "$s" "$cpu" "$((kb/1024))" "$(echo "$3 / $s" | bc -l)"
  echo "$s" > "$O/$4.s"; echo "$kb" > "$O/$4.kb"; echo "$cpu" > "$O/$4.cpu"; }
row "geoflux validate, $N rows (best of 3)" "$(best3 "$GF" validate "$O/bal-$N.csv")" "$N" gf
if command -v node >/dev/null && [ -d tests/js/node_modules/@ban-team/validateur-bal ]; then
  row "reference validateur-bal (node), $N rows" "$(t node tests/parity/ref_validate.js "$O/bal-$N.csv")" "$N" ref
  printf "ratio reference/geoflux: %.0fx faster (wall), %.0fx less CPU, %.0fx less memory\n" \
    "$(echo "$(cat "$O/ref.s") / $(cat "$O/gf.s")" | bc -l)" "$(echo "$(cat "$O/ref.cpu") / $(cat "$O/gf.cpu")" | bc -l)" \
    "$(echo "$(cat "$O/ref.kb") / $(cat "$O/gf.kb")" | bc -l)"
else
  echo "reference validator not run: node or tests/js/node_modules missing"
fi
row "geoflux validate, $((N * 10)) rows" "$(t "$GF" validate "$O/bal-$((N * 10)).csv")" "$((N * 10))" gf10
row "geoflux validate -j 1, $((N * 10)) rows" "$(t "$GF" validate -j 1 "$O/bal-$((N * 10)).csv")" "$((N * 10))" gf10j1
printf "threads: all cores %.2f s, one %.2f s (%.2fx); the reader and the file-wide checks stay on one thread\n" \
  "$(cat "$O/gf10.s")" "$(cat "$O/gf10j1.s")" "$(echo "$(cat "$O/gf10j1.s") / $(cat "$O/gf10.s")" | bc -l)"
printf "peak RSS: %d MB at %d rows, %d MB at %d rows (file-wide BAN-id checks keep ~48 B per distinct address)\n" \
  "$(($(cat "$O/gf.kb") / 1024))" "$N" "$(($(cat "$O/gf10.kb") / 1024))" "$((N * 10))"
rm -f "$O"/*.csv
